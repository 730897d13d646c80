#!/usr/bin/env python3
"""Generate the IOD validation tables from the machine-readable PS3.3.

Usage: gen_iod.py PART3_XML DATA_STANDARD_DIR OUT_C

Inputs
  PART3_XML          GDCM's Part3.xml (PS3.3 2008: module and macro tables with
                     attribute types, IOD module lists), installed by Debian's
                     libgdcm3.0 as /usr/share/gdcm-3.0/XML/Part3.xml.
  DATA_STANDARD_DIR  data/standard: sops.json (SOP class -> IOD), ciods.json,
                     ciod_to_modules.json, modules.json, macros.json,
                     ciod_to_func_group_macros.json, attributes.json (VRs).

Output: one C file of constant tables (see src/series/iod_tables.h). Nothing
in it is typed by hand. The IODs, their modules (usage M/C/U) and functional
groups are those of the current standard (ciod_to_modules.json,
ciod_to_func_group_macros.json); the attributes of each module come from the
module and macro tables of Part3.xml, joined by section or table number
(modules added to the standard after 2008 have no table there and are left
out, counted on stderr). Attribute types come from the module tables, macros
are expanded where they are included, Type 1C/2C conditions are compiled from
their "Required if ..." sentences when the sentence is one of the simple forms
(attribute present/absent, equals / does not equal values, greater than N,
non-zero), enumerated values from the "Enumerated Values:" lists of CS
attributes. Conditions and value lists that do not parse are left out (the
attribute is then checked as if the condition were unknown) and counted on
stderr."""
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

TYPES = {'1': 'MSI_T1', '1C': 'MSI_T1C', '2': 'MSI_T2', '2C': 'MSI_T2C', '3': 'MSI_T3'}
MAX_DEPTH = 6          # nesting kept when expanding macros (recursive macros stop here)
TAG_RE = re.compile(r'\(([0-9A-Fa-f]{4}),([0-9A-Fa-f]{4})\)')
CS_VALUE_RE = re.compile(r'^[A-Z0-9_][A-Z0-9_ ]{0,15}$')
ORDINALS = {'first': 1, 'second': 2, 'third': 3, 'fourth': 4, 'fifth': 5}

stats = {'modules_missing': 0, 'cond_total': 0, 'cond_parsed': 0, 'enum_attrs': 0, 'include_unresolved': 0}


def c_string(s):
    out = []
    for ch in s:
        o = ord(ch)
        if ch in '"\\':
            out.append('\\' + ch)
        elif 32 <= o < 127:
            out.append(ch)
        else:
            out.append(''.join('\\%03o' % b for b in ch.encode('utf-8')) + '""')
    return '"' + ''.join(out) + '"'


def text_of(entry):
    parts = []
    for child in entry:
        if child.tag in ('description', 'section'):
            parts.append(''.join(child.itertext()))
    return '\n'.join(parts)


def description_of(entry):
    d = entry.find('description')
    return ''.join(d.itertext()) if d is not None else ''


# ---- conditions ------------------------------------------------------------------

VALUE_TOKEN = r'(?:"[^"]*"|[A-Z0-9_]+(?: [A-Z0-9_]+)*)'
PREDICATES = [
    # (regex on the text after the tag, kind, has values); longest forms first
    (r'(?:is present and does not equal|is present with a value other than|'
     r'is present and has a value other than)', 'MSI_C_NE', True),
    (r'(?:is present and equals|is present and has a value of|is present with a value of|'
     r'is present and is)', 'MSI_C_EQ', True),
    (r'(?:is|are) (?:present|sent|included)', 'MSI_C_PRESENT', False),
    (r'(?:is|are) (?:not present|absent|not sent|not included)', 'MSI_C_ABSENT', False),
    (r'(?:is|has a value) (?:greater than zero|non-zero|non zero|not zero)', 'MSI_C_GT', '0'),
    (r'(?:is|has a value) greater than (\d+)', 'MSI_C_GT', None),
    (r'(?:is not equal to|is not|does not equal|is other than|equals other than|'
     r'has a value other than)', 'MSI_C_NE', True),
    (r'(?:has the value of|has the value|has a value of|is equal to|is set to|equals|is)',
     'MSI_C_EQ', True),
]


def parse_values(text):
    """'ORIGINAL or MIXED and ...' -> (['ORIGINAL', 'MIXED'], rest) or None."""
    pos = 0
    values = []
    sep = re.compile(r'\s*(?:,\s*or|,|or)\s+')
    while True:
        m = re.match(r'\s*(' + VALUE_TOKEN + r')', text[pos:])
        if not m:
            return None
        v = m.group(1).strip('"')
        # an all-caps word followed by a Title-case word is the start of a name
        after = text[pos + m.end():]
        if re.match(r' [A-Z][a-z]', after):
            return None
        values.append(v)
        pos += m.end()
        s = sep.match(text[pos:])
        if not s:
            break
        nxt = re.match(r'(' + VALUE_TOKEN + r')', text[pos + s.end():])
        if not nxt or re.match(r' [A-Z][a-z]', text[pos + s.end() + nxt.end():]):
            break
        pos += s.end()
    if not values or any(len(v) > 64 for v in values):
        return None
    return values, text[pos:]


def parse_predicate(text):
    """Text after a tag -> (vidx, kind, values, rest) or None."""
    vidx = 0
    m = re.match(r',?\s*(?:[Vv]alue (\d)(?: of this frame)?|\(Value (\d)\))\s*', text)
    if m:
        vidx = int(m.group(1) or m.group(2))
        text = text[m.end():]
    text = re.sub(r'^\s*(?:of this frame|at the image level|in this item)\s*', '', text)
    text = text.lstrip(' ,')
    for rx, kind, with_values in PREDICATES:
        m = re.match(rx + r'\b', text)
        if not m:
            continue
        rest = text[m.end():]
        if with_values is False:
            return vidx, kind, [], rest
        if isinstance(with_values, str):
            return vidx, kind, [with_values], rest
        if with_values is None:
            return vidx, kind, [m.group(1)], rest
        pv = parse_values(rest)
        if pv is None:
            return None
        return vidx, kind, pv[0], pv[1]
    return None


def parse_condition(desc):
    """'... Required if X (gggg,eeee) is Y ...' -> list of terms or None."""
    m = re.search(r'(?:Required|Shall be present) (?:only )?if (.*?)(?:\.(?:\s|$)|;|$)', desc,
                  re.S)
    if not m:
        return None
    stats['cond_total'] += 1
    s = ' '.join(m.group(1).split())
    tags = list(TAG_RE.finditer(s))
    if not tags:
        return None
    terms = []
    conj = 'MSI_J_FIRST'
    for i, t in enumerate(tags):
        vidx_prefix = 0
        if i == 0:
            prefix = s[:t.start()]
            if re.search(r'\b(is|are|was|has|not|if|when|contains?|includes?)\b', prefix):
                return None
            om = re.search(r'\b(first|second|third|fourth|fifth) value of\b', prefix)
            if om:
                vidx_prefix = ORDINALS[om.group(1)]
            om = re.search(r'\bValue (\d) of\b', prefix)
            if om:
                vidx_prefix = int(om.group(1))
        tag = int(t.group(1) + t.group(2), 16)
        end = tags[i + 1].start() if i + 1 < len(tags) else len(s)
        pred = parse_predicate(s[t.end():end])
        if pred is None:
            return None
        vidx, kind, values, rest = pred
        vidx = vidx or vidx_prefix
        terms.append((conj, kind, tag, vidx, values))
        rest = rest.strip()
        if i + 1 < len(tags):
            cm = re.match(r',?\s*(and|or)\b(?:\s+the)?(?:\s+value of)?\s+[A-Z][^()]*$', rest)
            if not cm:
                return None
            conj = 'MSI_J_AND' if cm.group(1) == 'and' else 'MSI_J_OR'
        elif rest and not re.match(r'^,?\s*(otherwise|in which case|see |and may|may |shall not|$)', rest):
            return None
    stats['cond_parsed'] += 1
    return terms


# ---- enumerated values -----------------------------------------------------------------


def enum_from_lines(lines):
    values = []
    for line in lines:
        line = line.strip()
        if not line:
            if values:
                break
            continue
        m = re.match(r'^("?)([A-Z0-9_][A-Z0-9_ ]*?)\1\s*(?:$|=|:|\t| {2,}| - )', line)
        if not m or not CS_VALUE_RE.match(m.group(2)):
            break
        values.append(m.group(2))
    return values


def enum_from_inline(text):
    parts = [p.strip().strip('"').strip() for p in re.split(r',|\bor\b', text.rstrip('. '))]
    parts = [p for p in parts if p]
    if parts and all(CS_VALUE_RE.match(p) for p in parts):
        return parts
    return []


def numeric_enum(values):
    """['0000H', '1'] -> ['0', '1'] for binary integer attributes, None if not numbers."""
    out = []
    for v in values:
        if re.match(r'^[0-9A-F]{4}H$', v):
            out.append(str(int(v[:-1], 16)))
        elif re.match(r'^\d{1,5}$', v):
            out.append(str(int(v)))
        else:
            return None
    return out


def usable_enums(found, vr):
    """Keep the lists that can be checked for this VR; drop ambiguous ones (two lists
    without a value number cannot be told apart)."""
    if sum(1 for vidx, _ in found if vidx == 0) > 1:
        return []
    if vr == 'CS':
        return found
    if vr in ('US', 'SS', 'UL', 'SL', 'IS'):
        out = []
        for vidx, values in found:
            nums = numeric_enum(values)
            if nums is None:
                return []
            out.append((vidx, nums))
        return out
    return []


def parse_enums(entry, tag):
    """[(vidx, [values])] from 'Enumerated Values:' paragraphs of the entry."""
    text = text_of(entry)
    found = []
    for m in re.finditer(r'Enumerated Values?(?: for [^:\n]*?)?(?: are)?\s*:', text):
        line_start = text.rfind('\n', 0, m.start()) + 1
        intro = text[line_start:m.start()]
        tm = TAG_RE.search(intro)
        if tm and int(tm.group(1) + tm.group(2), 16) != tag:
            continue
        vm = re.search(r'Value (\d) shall', intro)
        vidx = int(vm.group(1)) if vm else 0
        line_end = text.find('\n', m.end())
        line_end = len(text) if line_end < 0 else line_end
        same_line = text[m.end():line_end].strip()
        values = enum_from_inline(same_line) if same_line else []
        if not values and not same_line:
            values = enum_from_lines(text[line_end + 1:].split('\n'))
        if values:
            found.append((vidx, values))
    return found


# ---- module and macro tables -------------------------------------------------------------


def tag_of(entry):
    g, e = entry.get('group', ''), entry.get('element', '')
    if not re.match(r'^[0-9A-Fa-fx]{4}$', g) or not re.match(r'^[0-9A-Fa-f]{4}$', e):
        return None
    mask = 0xFFFFFFFF
    if 'x' in g.lower():
        mask = 0xFF00FFFF
        g = g.lower().replace('x', '0')
    return int(g + e, 16), mask


def depth_of(name):
    n = 0
    name = name.strip()
    while name.startswith('>'):
        n += 1
        name = name[1:].lstrip()
    return n


class Tables:
    def __init__(self, root, vrs):
        self.vrs = vrs
        self.overrides = []  # (tag, depth, overridden module name) of expanded rows
        self.by_table = {}
        self.by_name = {}
        for el in root:
            if el.tag in ('macro', 'module') and el.get('table'):
                self.by_table.setdefault(el.get('table'), el)
                self.by_name.setdefault(self.norm(el.get('name', '')), el)
        self.module_by_ref = {}
        for el in root.iter('module'):
            if el.get('ref'):
                self.module_by_ref.setdefault(el.get('ref'), el)

    @staticmethod
    def norm(name):
        name = name.lower().replace('-', ' ')
        name = re.sub(r'\b(table|attributes?|description|module|macro)\b', ' ', name)
        return ' '.join(re.sub(r'[^a-z0-9 ]', ' ', name).split())

    def resolve_include(self, ref):
        m = re.search(r"Table\s+([A-Z]?[\d.]+-?[\w.]*?)\.?$", ref.strip())
        if m and m.group(1) in self.by_table:
            return self.by_table[m.group(1)]
        q = re.search(r"'([^']+)'", ref)
        if q and self.norm(q.group(1)) in self.by_name:
            return self.by_name[self.norm(q.group(1))]
        return None

    def expand(self, table, base_depth=0, stack=()):
        """Rows (tag, mask, type, depth, cond, enums) of a module or macro."""
        rows = []
        if table.get('table') in stack or base_depth > MAX_DEPTH:
            return rows
        stack = stack + (table.get('table'),)
        for el in table:
            if el.tag == 'entry':
                t = tag_of(el)
                typ = el.get('type')
                if t is None or typ not in TYPES:
                    continue
                depth = base_depth + depth_of(el.get('name', ''))
                if depth > MAX_DEPTH:
                    continue
                cond = parse_condition(description_of(el)) if typ in ('1C', '2C') else None
                enums = usable_enums(parse_enums(el, t[0]), self.vrs.get(t[0]))
                om = re.search(r'shall override the definition in the (.+?) Module',
                               description_of(el))
                self.overrides.append((t[0], depth, Tables.norm(om.group(1)) if om else None))
                rows.append((t[0], t[1], typ, depth, cond, enums))
            elif el.tag == 'include':
                ref = el.get('ref', '')
                target = self.resolve_include(ref)
                if target is None:
                    stats['include_unresolved'] += 1
                    continue
                rows.extend(self.expand(target, base_depth + depth_of(ref), stack))
        return rows


# ---- output ------------------------------------------------------------------------------


class Writer:
    def __init__(self):
        self.rules, self.terms, self.values, self.enums = [], [], [], []
        self.value_index = {}

    def value_list(self, values):
        key = tuple(values)
        if key not in self.value_index:
            self.value_index[key] = len(self.values)
            self.values.extend(values)
        return self.value_index[key], len(values)

    def add_rows(self, rows):
        first = len(self.rules)
        for tag, mask, typ, depth, cond, enums in rows:
            cfirst, ccount = len(self.terms), 0
            if cond:
                for conj, kind, ctag, vidx, values in cond:
                    vf, vc = self.value_list(values)
                    self.terms.append((conj, kind, ctag, vidx, vf, vc))
                ccount = len(cond)
            efirst, ecount = len(self.enums), 0
            for vidx, values in enums:
                vf, vc = self.value_list(values)
                self.enums.append((vidx, vf, vc))
                ecount += 1
            if enums:
                stats['enum_attrs'] += 1
            self.rules.append((tag, mask, TYPES[typ], depth, cfirst if ccount else 0, ccount,
                               efirst if ecount else 0, ecount, cond is None and typ in ('1C', '2C')))
        return first, len(self.rules) - first


def table_id(link):
    m = re.search(r'#table_(.*)$', link or '')
    return m.group(1) if m else None


def usage_code(u):
    u = (u or '').strip().upper()
    return {'M': 'MSI_U_M', 'U': 'MSI_U_U'}.get(u[:1], 'MSI_U_C')


def load_json(d, name):
    with open(os.path.join(d, name), encoding='utf-8') as f:
        return json.load(f)


def main():
    part3, std, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
    root = ET.parse(part3).getroot()
    vrs = {}
    for a in load_json(std, 'attributes.json'):
        tag = a['tag'].strip('()').replace(',', '')
        if re.match(r'^[0-9A-Fa-f]{8}$', tag):
            vrs[int(tag, 16)] = a['valueRepresentation'].strip()
    tabs = Tables(root, vrs)
    sops = load_json(std, 'sops.json')
    ciods = load_json(std, 'ciods.json')
    macros = load_json(std, 'macros.json')
    fgs = load_json(std, 'ciod_to_func_group_macros.json')

    modules_json = load_json(std, 'modules.json')
    ciod_modules = load_json(std, 'ciod_to_modules.json')
    macro_by_id = {m['id']: m for m in macros}
    module_by_id = {m['id']: m for m in modules_json}

    w = Writer()
    modules = []      # (name, ref, first, count, is_macro)
    module_index = {}

    module_overrides = {}  # module index -> [(tag, overridden module name)]

    def module_for(table_el, name, ref, is_macro):
        key = table_el.get('table')
        if key not in module_index:
            tabs.overrides = []
            first, count = w.add_rows(tabs.expand(table_el))
            module_index[key] = len(modules)
            module_overrides[len(modules)] = [(t, target) for t, d, target in tabs.overrides
                                              if target and d == 0]
            modules.append((name, ref, first, count, is_macro))
        return module_index[key]

    def part3_table(entry, is_macro=False):
        """Part3.xml module or macro table of a modules.json/macros.json entry: by
        section for modules, by table number for macros (a macro's section is
        often the module that defines it)."""
        link = entry.get('linkToStandard', '')
        m = re.search(r'sect_([\w.]+?)\.html', link)
        if m and not is_macro and m.group(1) in tabs.module_by_ref:
            return tabs.module_by_ref[m.group(1)], m.group(1)
        t = table_id(link)
        if t in tabs.by_table:
            return tabs.by_table[t], t
        return None, None

    # IODs and their modules as in the current standard (ciod_to_modules.json);
    # the attributes of each module from Part3.xml. Modules newer than Part3.xml
    # are counted and left out.
    use_conditions = {}  # (ciod id, module, is macro) -> compiled condition of a C use

    def use_condition(row):
        if usage_code(row['usage']) != 'MSI_U_C' or not row.get('conditionalStatement'):
            return None
        return parse_condition(row['conditionalStatement'])

    iods = []         # [name, table, [(module, usage)], [(macro module, usage)]]
    iod_index = {}
    for c in ciods:
        iod_index[c['id']] = len(iods)
        iods.append([c['name'], table_id(c['linkToStandard']) or '', [], [], c['id']])
    for cm in ciod_modules:
        mod = module_by_id.get(cm['moduleId'])
        table_el, ref = part3_table(mod) if mod else (None, None)
        if cm['ciodId'] not in iod_index:
            continue
        if table_el is None:
            stats['modules_missing'] += 1
            continue
        mi = module_for(table_el, mod['name'], ref, False)
        iods[iod_index[cm['ciodId']]][2].append((mi, usage_code(cm['usage'])))
        use_conditions[(cm['ciodId'], mi, False)] = use_condition(cm)
    for fg in fgs:
        mac = macro_by_id.get(fg['macroId'])
        table_el, ref = part3_table(mac, True) if mac else (None, None)
        if fg['ciodId'] not in iod_index:
            continue
        if table_el is None:
            stats['modules_missing'] += 1
            continue
        mi = module_for(table_el, mac['name'], ref, True)
        iods[iod_index[fg['ciodId']]][3].append((mi, usage_code(fg['usage'])))
        use_conditions[(fg['ciodId'], mi, True)] = use_condition(fg)

    iod_by_name = {c['name']: iod_index[c['id']] for c in ciods}
    sop_rows = []
    for sop in sops:
        if sop['ciod'] in iod_by_name:
            sop_rows.append((sop['id'], iod_by_name[sop['ciod']]))
    sop_rows.sort()

    markers, use_rows = module_uses(iods, modules, w, use_conditions)
    supp, supp_pos = suppressions(iods, modules, module_overrides)
    with open(out_path + '.tmp', 'w', encoding='utf-8') as f:
        write_tables(f, w, modules, markers, use_rows, supp, supp_pos, iods, sop_rows)
    os.replace(out_path + '.tmp', out_path)
    sys.stderr.write('gen_iod: %d IODs, %d SOP classes, %d modules/macros, %d rules; '
                     '%d of %d conditions compiled; %d attributes with enumerated values; '
                     '%d includes unresolved; %d module uses newer than Part3.xml left out\n' % (
                         len(iods), len(sop_rows), len(modules), len(w.rules),
                         stats['cond_parsed'], stats['cond_total'], stats['enum_attrs'],
                         stats['include_unresolved'], stats['modules_missing']))


def module_uses(iods, modules, w, use_conditions):
    """Rows of msi_iod_uses (modules, then functional groups, per IOD) and the
    marker rows of conditional or optional modules: their top-level attributes
    that no mandatory module of the IOD has (their presence means the module's).
    Compiled conditions of C uses are appended to the terms."""
    markers, use_rows = [], []
    for _, _, uses, fgl, ciod in iods:
        mandatory = set()
        for m, u in uses:
            if u == 'MSI_U_M':
                _, _, first, count, _ = modules[m]
                mandatory.update((r[0], r[1]) for r in w.rules[first:first + count] if r[3] == 0)
        for k, (m, u) in enumerate(uses + fgl):
            mfirst = len(markers)
            if u != 'MSI_U_M':
                _, _, first, count, _ = modules[m]
                markers.extend(i for i in range(first, first + count)
                               if w.rules[i][3] == 0 and (w.rules[i][0], w.rules[i][1]) not in mandatory)
            cond = use_conditions.get((ciod, m, k >= len(uses))) or []
            cfirst = len(w.terms)
            for conj, kind, ctag, vidx, values in cond:
                vf, vc = w.value_list(values)
                w.terms.append((conj, kind, ctag, vidx, vf, vc))
            use_rows.append((m, u, mfirst, len(markers) - mfirst, cfirst, len(cond)))
    return markers, use_rows


def suppressions(iods, modules, module_overrides):
    """"This type definition shall override the definition in the X Module": the
    attribute of module X is not checked in IODs that have both modules."""
    supp, supp_pos = [], []
    for _, _, uses, _, _ in iods:
        supp_pos.append(len(supp))
        used = {Tables.norm(modules[m][0]): m for m, _ in uses}
        for m, _ in uses:
            supp.extend((used[target], tag) for tag, target in module_overrides.get(m, [])
                        if target in used)
    supp_pos.append(len(supp))
    return supp, supp_pos


def write_array(f, decl, rows, fmt, empty):
    f.write('%s[] = {\n' % decl)
    for row in rows or [empty]:
        f.write('    ' + fmt % row + ',\n')
    f.write('};\n')


def write_tables(f, w, modules, markers, use_rows, supp, supp_pos, iods, sop_rows):
    f.write('/* Generated by tools/gen_iod.py from Part3.xml (PS3.3) and data/standard; '
            'do not edit. */\n')
    f.write('#include "series/iod_tables.h"\n\n')
    write_array(f, 'const struct msi_iod_rule msi_iod_rules',
                [r[:8] + ('true' if r[8] else 'false',) for r in w.rules],
                '{0x%08X, 0x%08X, %s, %d, %d, %d, %d, %d, %s}', None)
    write_array(f, 'const struct msi_iod_term msi_iod_terms', w.terms,
                '{%s, %s, 0x%08X, %d, %d, %d}', ('MSI_J_FIRST', 'MSI_C_PRESENT', 0, 0, 0, 0))
    write_array(f, 'const char *const msi_iod_values', [(c_string(v),) for v in w.values],
                '%s', ('""',))
    write_array(f, 'const struct msi_iod_enum msi_iod_enums', w.enums, '{%d, %d, %d}', (0, 0, 0))
    write_array(f, 'const struct msi_iod_module msi_iod_modules',
                [(c_string(n), c_string(r), a, b, 'true' if mac else 'false')
                 for n, r, a, b, mac in modules], '{%s, %s, %d, %d, %s}', None)
    write_array(f, 'const uint32_t msi_iod_markers', [(i,) for i in markers], '%d', (0,))
    write_array(f, 'const struct msi_iod_use msi_iod_uses', use_rows, '{%d, %s, %d, %d, %d, %d}',
                (0, 'MSI_U_U', 0, 0, 0, 0))
    write_array(f, 'const struct msi_iod_suppressed msi_iod_suppressed', supp, '{%d, 0x%08X}',
                (0, 0))
    rows, pos = [], 0
    for k, (name, table, uses, fgl, _) in enumerate(iods):
        rows.append((c_string(name), c_string(table), pos, len(uses), pos + len(uses), len(fgl),
                     supp_pos[k], supp_pos[k + 1] - supp_pos[k]))
        pos += len(uses) + len(fgl)
    write_array(f, 'const struct msi_iod msi_iods', rows, '{%s, %s, %d, %d, %d, %d, %d, %d}', None)
    write_array(f, 'const struct msi_iod_sop msi_iod_sops',
                [(c_string(u), i) for u, i in sop_rows], '{%s, %d}', None)
    f.write('const size_t msi_iod_rule_count = %d;\n' % len(w.rules))
    f.write('const size_t msi_iod_module_count = %d;\n' % len(modules))
    f.write('const size_t msi_iod_count = %d;\n' % len(iods))
    f.write('const size_t msi_iod_sop_count = %d;\n' % len(sop_rows))


if __name__ == '__main__':
    main()
