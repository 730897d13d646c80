/* Every element against the data dictionary (VR, VM) and the syntax of its
 * VR (PS3.5 6.2): lengths, character repertoires, dates, times, numbers,
 * UIDs. One table row per VR. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "series/series_internal.h"

#define MAX_VALUE_TEXT 1024

typedef bool (*value_check_fn)(const char *v, size_t n, const char **why);

/* ---- per-VR syntax ----------------------------------------------------------- */

static bool all_digits(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)v[i]))
            return false;
    return n > 0;
}

static int num2(const char *v) { return (v[0] - '0') * 10 + (v[1] - '0'); }

static bool check_cs(const char *v, size_t n, const char **why)
{
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!(isupper((unsigned char)c) || isdigit((unsigned char)c) || c == ' ' || c == '_')) {
            *why = "character not allowed in CS (A-Z, 0-9, space, underscore)";
            return false;
        }
    }
    return true;
}

static bool check_as(const char *v, size_t n, const char **why)
{
    *why = "age string must be nnnD, nnnW, nnnM or nnnY";
    return n == 4 && all_digits(v, 3) && strchr("DWMY", v[3]) != NULL && v[3] != '\0';
}

static bool valid_date(const char *v)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year = atoi((char[5]){v[0], v[1], v[2], v[3], 0});
    int month = num2(v + 4), day = num2(v + 6);
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month < 1 || month > 12 || day < 1 || day > days[month - 1])
        return false;
    return !(month == 2 && day == 29 && !leap);
}

static bool check_da(const char *v, size_t n, const char **why)
{
    *why = "date must be YYYYMMDD";
    if (n != 8 || !all_digits(v, 8))
        return false;
    *why = "not a calendar date";
    return valid_date(v);
}

/* HH[MM[SS[.F{1,6}]]], the digits checked by range. */
static bool valid_time(const char *v, size_t n)
{
    size_t i = 0;
    static const int limits[] = {23, 59, 60};
    for (int part = 0; part < 3 && i < n && v[i] != '.'; part++) {
        if (i + 2 > n || !all_digits(v + i, 2) || num2(v + i) > limits[part])
            return false;
        i += 2;
    }
    if (i == 0)
        return false;
    if (i < n) {
        if (i != 6 || v[i] != '.' || n - i - 1 < 1 || n - i - 1 > 6)
            return false;
        return all_digits(v + i + 1, n - i - 1);
    }
    return true;
}

static bool check_tm(const char *v, size_t n, const char **why)
{
    *why = "time must be HH[MM[SS[.FFFFFF]]]";
    return valid_time(v, n);
}

static bool check_dt(const char *v, size_t n, const char **why)
{
    size_t body = n;
    const char *tz = memchr(v, '+', n);
    if (!tz)
        tz = memchr(v, '-', n);
    *why = "date-time must be YYYY[MM[DD[HH[MM[SS[.F]]]]]][&ZZXX]";
    if (tz) {
        body = (size_t)(tz - v);
        if (n - body != 5 || !all_digits(tz + 1, 4))
            return false;
    }
    if (body < 4 || !all_digits(v, body < 14 ? body : 14) || (body < 14 && body % 2))
        return false;
    if (body >= 8 && !valid_date(v))
        return false;
    if (body >= 6 && (num2(v + 4) < 1 || num2(v + 4) > 12))
        return false;
    return body <= 8 || valid_time(v + 8, body - 8);
}

/* v without its leading and trailing spaces, NUL-terminated in buf; false
 * when that is empty or does not fit in cap bytes. */
static bool trimmed(const char *v, size_t n, char *buf, size_t cap)
{
    size_t s = 0, e = n;
    while (s < e && v[s] == ' ')
        s++;
    while (e > s && v[e - 1] == ' ')
        e--;
    if (e == s || e - s >= cap)
        return false;
    memcpy(buf, v + s, e - s);
    buf[e - s] = '\0';
    return true;
}

static bool check_ds(const char *v, size_t n, const char **why)
{
    char buf[32], *end;
    *why = "not a decimal string";
    if (!trimmed(v, n, buf, sizeof buf) || buf[strspn(buf, "0123456789+-.eE")] != '\0')
        return false;
    strtod(buf, &end);
    return *end == '\0';
}

static bool check_is(const char *v, size_t n, const char **why)
{
    long long x;
    char buf[16];
    *why = "not an integer string in -2^31..2^31-1";
    if (!trimmed(v, n, buf, sizeof buf))
        return false;
    if (!all_digits(buf + (buf[0] == '+' || buf[0] == '-'), strlen(buf) - (buf[0] == '+' || buf[0] == '-')))
        return false;
    x = atoll(buf);
    return x >= -2147483648LL && x <= 2147483647LL;
}

static bool check_ui(const char *v, size_t n, const char **why)
{
    char buf[80];
    if (n >= sizeof buf) {
        *why = "UID longer than 64 characters";
        return false;
    }
    memcpy(buf, v, n);
    buf[n] = '\0';
    return msi_uid_valid(buf, why);
}

/* Control characters other than ESC (and, in text VRs, TAB CR LF FF). */
static bool no_control(const char *v, size_t n, bool text, const char **why)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 && c != 0x1B && !(text && (c == '\t' || c == '\r' || c == '\n' || c == '\f'))) {
            *why = "control character not allowed";
            return false;
        }
    }
    return true;
}

static bool check_plain(const char *v, size_t n, const char **why) { return no_control(v, n, false, why); }
static bool check_text(const char *v, size_t n, const char **why) { return no_control(v, n, true, why); }

/* ---- the VR table ------------------------------------------------------------------- */

struct vr_rule {
    ms_vr vr;
    unsigned max_len;     /* per value, in characters; 0 = no limit */
    bool multi;           /* values separated by backslash */
    value_check_fn check;
};

static const struct vr_rule vr_rules[] = {
    {MS_VR_AE, 16, true, check_plain},
    {MS_VR_AS, 0, true, check_as},
    {MS_VR_CS, 16, true, check_cs},
    {MS_VR_DA, 0, true, check_da},
    {MS_VR_DS, 16, true, check_ds},
    {MS_VR_DT, 0, true, check_dt},
    {MS_VR_IS, 12, true, check_is},
    {MS_VR_LO, 64, true, check_plain},
    {MS_VR_LT, 10240, false, check_text},
    {MS_VR_PN, 64 * 3 + 2, true, check_plain},
    {MS_VR_SH, 16, true, check_plain},
    {MS_VR_ST, 1024, false, check_text},
    {MS_VR_TM, 0, true, check_tm},
    {MS_VR_UC, 0, true, check_plain},
    {MS_VR_UI, 64, true, check_ui},
    {MS_VR_UR, 0, false, check_plain},
    {MS_VR_UT, 0, false, check_text},
};

static const struct vr_rule *vr_rule_find(ms_vr vr)
{
    for (size_t i = 0; i < sizeof vr_rules / sizeof *vr_rules; i++)
        if (vr_rules[i].vr == vr)
            return &vr_rules[i];
    return NULL;
}

bool msi_uid_valid(const char *text, const char **why)
{
    size_t n = strlen(text), start = 0;
    if (n == 0 || n > 64) {
        *why = n ? "UID longer than 64 characters" : "empty UID";
        return false;
    }
    if (!strchr(text, '.')) {
        *why = "UID has a single component";
        return false;
    }
    if (!(text[0] >= '0' && text[0] <= '2') || text[1] != '.') {
        *why = "UID root is not 0, 1 or 2 (ISO/IEC 9834-1)";
        return false;
    }
    for (size_t i = 0; i <= n; i++) {
        if (i < n && text[i] != '.') {
            if (!isdigit((unsigned char)text[i])) {
                *why = "UID has a character other than 0-9 and '.'";
                return false;
            }
            continue;
        }
        if (i == start) {
            *why = "UID has an empty component";
            return false;
        }
        if (text[start] == '0' && i - start > 1) {
            *why = "UID component has a leading zero";
            return false;
        }
        start = i + 1;
    }
    return true;
}

/* ---- one element ---------------------------------------------------------------------- */

struct walk {
    const struct msi_vctx *v;
    char path[MSI_PATH_TEXT];
};

/* Characters of a value for length limits: UTF-8 code points in ISO_IR 192,
 * bytes in single-byte sets; (size_t)-1 (unknown) with ISO 2022 escapes. */
static size_t char_count(const struct ms_element *el, const char *v, size_t n)
{
    const char *cs = ms_dataset_charset(ms_element_dataset(el));
    size_t k = 0;
    if (strstr(cs, "2022"))
        return (size_t)-1;
    if (!strstr(cs, "192"))
        return n;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)v[i] & 0xC0) != 0x80;
    return k;
}

static void report_value(struct walk *w, const struct ms_element *el, size_t idx, const char *v,
                         const char *why)
{
    msi_report(w->v->fn, w->v->ctx, MS_SEVERITY_ERROR, w->v->label, "value",
               ms_element_tag(el), w->path, "", "%s value %zu '%.64s' invalid: %s",
               ms_vr_name(ms_element_vr(el)), idx + 1, v, why);
}

static void check_string_values(struct walk *w, const struct ms_element *el,
                                const struct vr_rule *r)
{
    size_t vm = r->multi ? ms_element_vm(el) : 1;
    char buf[MAX_VALUE_TEXT];
    const char *why = "";

    for (size_t i = 0; i < vm; i++) {
        size_t n, chars;
        if (!ms_element_get_string(el, i, buf, sizeof buf) || !buf[0])
            continue; /* empty values are allowed in multi-valued attributes */
        n = strlen(buf);
        chars = char_count(el, buf, n);
        if (r->max_len && chars != (size_t)-1 && chars > r->max_len &&
            n < sizeof buf - 1) {
            report_value(w, el, i, buf, "longer than the VR allows");
            continue;
        }
        if (r->check && !r->check(buf, n, &why))
            report_value(w, el, i, buf, why);
    }
}

/* "1", "1-n", "2-2n", "1-3", "1-n or 1" -> min, max (0 = unbounded), step. */
static bool parse_vm(const char *vm, size_t *min, size_t *max, size_t *step)
{
    char *end;
    if (!vm || !isdigit((unsigned char)vm[0]))
        return false;
    *min = strtoul(vm, &end, 10);
    *max = *min;
    *step = 1;
    if (*end != '-')
        return *end == '\0' || *end == ' ';
    end++;
    if (*end == 'n') {
        *max = 0;
        return true;
    }
    *max = strtoul(end, &end, 10);
    if (*end == 'n') {
        *step = *max;
        *max = 0;
    }
    return true;
}

static bool vm_is_counted(ms_vr vr)
{
    static const ms_vr uncounted[] = {MS_VR_SQ, MS_VR_OB, MS_VR_OW, MS_VR_OF, MS_VR_OD,
                                      MS_VR_OL, MS_VR_OV, MS_VR_UN, MS_VR_LT, MS_VR_ST,
                                      MS_VR_UT, MS_VR_UR, MS_VR_NONE};
    for (size_t i = 0; i < sizeof uncounted / sizeof *uncounted; i++)
        if (uncounted[i] == vr)
            return false;
    return true;
}

static void check_vm(struct walk *w, const struct ms_element *el, const struct ms_dict_entry *d)
{
    size_t vm = ms_element_vm(el), min, max, step;
    if (vm == 0 || !vm_is_counted(ms_element_vr(el)) || !parse_vm(d->vm, &min, &max, &step))
        return;
    if (vm < min || (max && vm > max) || (step > 1 && vm % step))
        msi_report(w->v->fn, w->v->ctx, MS_SEVERITY_ERROR, w->v->label, "vm", ms_element_tag(el),
                   w->path, "", "value multiplicity %zu, the dictionary requires %s", vm, d->vm);
}

static void check_vr(struct walk *w, const struct ms_element *el, const struct ms_dict_entry *d)
{
    ms_vr vr = ms_element_vr(el);
    if (d->vr == MS_VR_NONE || vr == d->vr || vr == d->vr2 || vr == d->vr3)
        return;
    msi_report(w->v->fn, w->v->ctx, vr == MS_VR_UN ? MS_SEVERITY_WARNING : MS_SEVERITY_ERROR,
               w->v->label, "vr", ms_element_tag(el), w->path, "",
               "VR %s, the dictionary says %s", ms_vr_name(vr), ms_vr_name(d->vr));
}

static void check_binary_length(struct walk *w, const struct ms_element *el)
{
    unsigned size = ms_vr_binary_size(ms_element_vr(el));
    uint64_t len = ms_element_length(el);
    if (size > 1 && len != MS_UNDEFINED_LENGTH && !ms_element_is_encapsulated(el) && len % size)
        msi_report(w->v->fn, w->v->ctx, MS_SEVERITY_ERROR, w->v->label, "value",
                   ms_element_tag(el), w->path, "", "length %llu is not a multiple of %u for VR %s",
                   (unsigned long long)len, size, ms_vr_name(ms_element_vr(el)));
}

static void check_element(struct walk *w, const struct ms_element *el)
{
    uint32_t tag = ms_element_tag(el);
    const struct ms_dict_entry *d;
    const struct vr_rule *r;

    if ((MS_TAG_GROUP(tag) & 1) || MS_TAG_ELEMENT(tag) == 0)
        return; /* private elements and group lengths: no dictionary to check against */
    d = ms_dict_find(tag);
    if (d) {
        check_vr(w, el, d);
        check_vm(w, el, d);
    }
    r = vr_rule_find(ms_element_vr(el));
    if (r)
        check_string_values(w, el, r);
    else
        check_binary_length(w, el);
}

static void walk_dataset(struct walk *w, const struct ms_dataset *ds, unsigned depth)
{
    for (size_t i = 0; i < ms_dataset_count(ds); i++) {
        const struct ms_element *el = ms_dataset_at(ds, i);
        size_t old = msi_path_push(w->path, ms_element_tag(el), 0);
        check_element(w, el);
        w->path[old] = '\0';
        if (depth >= 32)
            continue;
        for (size_t k = 0; k < ms_element_item_count(el); k++) {
            msi_path_push(w->path, ms_element_tag(el), k + 1);
            walk_dataset(w, ms_element_item(el, k), depth + 1);
            w->path[old] = '\0';
        }
    }
}

void msi_check_values(const struct ms_dataset *ds, const struct msi_vctx *v)
{
    struct walk w;
    w.v = v;
    w.path[0] = '\0';
    walk_dataset(&w, ds, 0);
}
