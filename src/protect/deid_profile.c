/* The Basic Application Level Confidentiality Profile applied to a parsed
 * file: Table E.1-1 lookups, the resolution of combined actions, dummy values,
 * the keyed UID mapping, and the walk that edits the tree in place while the
 * originals of changed top-level elements are cloned aside. */
#include <stdio.h>
#include <string.h>

#include "protect/deid.h"

#define TAG_PATIENT_IDENTITY_REMOVED MS_TAG(0x0012, 0x0062)
#define TAG_DEID_METHOD MS_TAG(0x0012, 0x0063)
#define TAG_DEID_METHOD_CODES MS_TAG(0x0012, 0x0064)
#define TAG_BURNED_IN MS_TAG(0x0028, 0x0301)

#define PROFILE_CODE "113100"
#define PROFILE_MEANING "Basic Application Confidentiality Profile"
#define PROFILE_METHOD PROFILE_MEANING " (DCM " PROFILE_CODE ")"

/* ---- the table ------------------------------------------------------------------------ */

const struct msi_deid_rule *msi_deid_find(uint32_t tag)
{
    size_t lo = 0, hi = msi_deid_exact_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (msi_deid_rules[mid].tag < tag)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < msi_deid_exact_count && msi_deid_rules[lo].tag == tag)
        return &msi_deid_rules[lo];
    for (size_t i = msi_deid_exact_count; i < msi_deid_rule_count; i++)
        if ((tag & msi_deid_rules[i].mask) == msi_deid_rules[i].tag)
            return &msi_deid_rules[i];
    return NULL;
}

const char *msi_deid_action_name(enum msi_deid_action a)
{
    static const char *const names[MSI_DEID_ACTION_COUNT] = {
        "K", "X", "Z", "D", "U", "C", "X/Z", "X/D", "X/Z/D", "Z/D", "X/Z/U*"};
    return (unsigned)a < MSI_DEID_ACTION_COUNT ? names[a] : "?";
}

/* Resolution per action: for a non-sequence, a UID, a sequence. */
static const struct {
    enum msi_deid_op value, uid, seq;
} resolution[MSI_DEID_ACTION_COUNT] = {
    [MSI_DEID_K] = {MSI_OP_KEEP, MSI_OP_KEEP, MSI_OP_RECURSE},
    [MSI_DEID_X] = {MSI_OP_REMOVE, MSI_OP_REMOVE, MSI_OP_REMOVE},
    [MSI_DEID_Z] = {MSI_OP_EMPTY, MSI_OP_EMPTY, MSI_OP_EMPTY},
    [MSI_DEID_D] = {MSI_OP_DUMMY, MSI_OP_UID, MSI_OP_RECURSE},
    [MSI_DEID_U] = {MSI_OP_DUMMY, MSI_OP_UID, MSI_OP_RECURSE},
    [MSI_DEID_C] = {MSI_OP_DUMMY, MSI_OP_UID, MSI_OP_RECURSE},
    [MSI_DEID_XZ] = {MSI_OP_EMPTY, MSI_OP_EMPTY, MSI_OP_EMPTY},
    [MSI_DEID_XD] = {MSI_OP_DUMMY, MSI_OP_UID, MSI_OP_EMPTY},
    [MSI_DEID_XZD] = {MSI_OP_DUMMY, MSI_OP_UID, MSI_OP_EMPTY},
    [MSI_DEID_ZD] = {MSI_OP_DUMMY, MSI_OP_UID, MSI_OP_EMPTY},
    [MSI_DEID_XZU] = {MSI_OP_EMPTY, MSI_OP_UID, MSI_OP_RECURSE},
};

enum msi_deid_op msi_deid_resolve(enum msi_deid_action a, ms_vr vr)
{
    if ((unsigned)a >= MSI_DEID_ACTION_COUNT)
        return MSI_OP_REMOVE;
    if (vr == MS_VR_SQ)
        return resolution[a].seq;
    return vr == MS_VR_UI ? resolution[a].uid : resolution[a].value;
}

static bool is_overlay_group(uint16_t g)
{
    return g >= 0x6000 && g <= 0x601E && !(g & 1);
}

enum msi_deid_op msi_deid_op_for(uint32_t tag, ms_vr vr, bool keep_private)
{
    uint16_t g = MS_TAG_GROUP(tag);
    const struct msi_deid_rule *rule;

    if (MS_TAG_ELEMENT(tag) == 0 && g != 0x0002)
        return MSI_OP_REMOVE; /* group lengths: retired, and wrong once elements go */
    if (g & 1) {
        if (keep_private)
            return vr == MS_VR_SQ ? MSI_OP_RECURSE : MSI_OP_KEEP;
        return msi_deid_resolve(msi_deid_private_action, vr);
    }
    if (is_overlay_group(g)) /* the table removes Overlay Data: the plane goes with it */
        return MSI_OP_REMOVE;
    rule = msi_deid_find(tag);
    if (rule)
        return msi_deid_resolve(rule->action, vr);
    return vr == MS_VR_SQ ? MSI_OP_RECURSE : MSI_OP_KEEP;
}

/* ---- UIDs ---------------------------------------------------------------------------- */

/* 16-byte big-endian number to decimal; returns the digit count. */
static size_t u128_decimal(uint8_t n[16], char *out)
{
    char rev[40];
    size_t len = 0;
    bool zero;
    do {
        unsigned rem = 0;
        zero = true;
        for (int i = 0; i < 16; i++) {
            unsigned cur = (rem << 8) | n[i];
            n[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
            if (n[i])
                zero = false;
        }
        rev[len++] = (char)('0' + rem);
    } while (!zero && len < sizeof rev);
    for (size_t i = 0; i < len; i++)
        out[i] = rev[len - 1 - i];
    out[len] = '\0';
    return len;
}

static size_t trimmed(const char *s, size_t len)
{
    while (len > 0 && (s[len - 1] == '\0' || s[len - 1] == ' '))
        len--;
    return len;
}

ms_status msi_deid_map_uid(const uint8_t key[MSI_DEID_KEY_LEN], const char *uid, size_t len,
                           char out[MSI_DEID_UID_LEN + 1], struct ms_error *err)
{
    static const char label[] = "medseal deid uid v1"; /* sizeof includes the NUL */
    uint8_t msg[sizeof label + 64 + 1], mac[MS_HMAC_SHA256_LEN];
    ms_status st;

    len = trimmed(uid, len);
    if (len > 64) /* PS3.5 9.1: at most 64 characters; hash longer junk anyway */
        len = 64;
    memcpy(msg, label, sizeof label);
    memcpy(msg + sizeof label, uid, len);
    st = ms_hmac_sha256(key, MSI_DEID_KEY_LEN, msg, sizeof label + len, mac, err);
    if (st != MS_OK)
        return st;
    mac[6] = (uint8_t)((mac[6] & 0x0F) | 0x80); /* RFC 9562 version 8 */
    mac[8] = (uint8_t)((mac[8] & 0x3F) | 0x80); /* variant 10 */
    memcpy(out, "2.25.", 5);
    u128_decimal(mac, out + 5);
    ms_crypto_wipe(mac, sizeof mac);
    return MS_OK;
}

/* ---- the walk ------------------------------------------------------------------------- */

struct run {
    const struct msi_deid_profile *p;
    struct msi_deid_stats *st;
    struct ms_error *err;
    bool changed;
    unsigned dummy_depth; /* inside a sequence whose action is D (Content Sequence...) */
};

static void remove_at(struct ms_dataset *ds, uint32_t i)
{
    memmove(ds->els + i, ds->els + i + 1, (size_t)(ds->n - i - 1) * sizeof *ds->els);
    ds->n--;
}

static bool is_empty(const struct ms_element *el)
{
    if (el->vr == MS_VR_SQ)
        return el->nitems == 0;
    return el->length == 0 && !(el->flags & MSI_EL_ENCAP);
}

static ms_status set_value(struct run *r, struct ms_element *el, const void *v, size_t len)
{
    uint8_t *copy = NULL;
    if (len) {
        copy = msi_arena_dup(el->parent->arena, v, len);
        if (!copy)
            return ms_error_set(r->err, MS_ENOMEM, "out of memory");
    }
    el->value = copy;
    el->length = len;
    el->flags &= (uint8_t)~(MSI_EL_ENCAP | MSI_EL_UNDEF);
    el->nfrags = 0;
    r->changed = true;
    return MS_OK;
}

/* "ANON" and 8 hex digits of HMAC(key, label || value): the same value gets
 * the same pseudonym within a run, and nothing of the value shows. */
static ms_status pseudonym(struct run *r, const struct ms_element *el, char out[13])
{
    static const char label[] = "medseal deid dummy v1";
    static const char hex[] = "0123456789ABCDEF";
    uint8_t mac[MS_HMAC_SHA256_LEN];
    struct ms_hmac *m = NULL;
    ms_status st = ms_hmac_create(&m, r->p->key, MSI_DEID_KEY_LEN, r->err);

    if (st == MS_OK)
        st = ms_hmac_update(m, label, sizeof label, r->err);
    if (st == MS_OK && el->length)
        st = ms_hmac_update(m, el->value, trimmed((const char *)el->value, (size_t)el->length),
                            r->err);
    if (st == MS_OK)
        st = ms_hmac_final(m, mac, r->err);
    ms_hmac_destroy(m);
    if (st != MS_OK)
        return st;
    memcpy(out, "ANON", 4);
    for (int i = 0; i < 4; i++) {
        out[4 + 2 * i] = hex[mac[i] >> 4];
        out[5 + 2 * i] = hex[mac[i] & 15];
    }
    out[12] = '\0';
    ms_crypto_wipe(mac, sizeof mac);
    return MS_OK;
}

/* Fixed dummies of the VRs that have a syntax (dates, times, numbers). */
static const char *fixed_dummy(ms_vr vr)
{
    switch (vr) {
    case MS_VR_DA: return "19000101";
    case MS_VR_TM: return "000000";
    case MS_VR_DT: return "19000101000000";
    case MS_VR_AS: return "000Y";
    case MS_VR_DS:
    case MS_VR_IS: return "0";
    case MS_VR_UR: return "urn:anonymized";
    default: return NULL;
    }
}

static ms_status dummy(struct run *r, struct ms_element *el)
{
    static const uint8_t zeros[8];
    const char *fixed = fixed_dummy((ms_vr)el->vr);
    char text[13];
    unsigned size;
    ms_status st;

    if (is_empty(el))
        return MS_OK; /* nothing to hide; Type 2 stays empty */
    r->st->dummies++;
    if (fixed)
        return set_value(r, el, fixed, strlen(fixed));
    if (ms_vr_is_string((ms_vr)el->vr)) {
        if ((st = pseudonym(r, el, text)) != MS_OK)
            return st;
        return set_value(r, el, text, 12);
    }
    size = ms_vr_binary_size((ms_vr)el->vr);
    if (el->vr == MS_VR_AT)
        size = 4;
    return set_value(r, el, zeros, size ? size : 2);
}

static ms_status empty(struct run *r, struct ms_element *el)
{
    if (is_empty(el))
        return MS_OK;
    r->st->emptied++;
    if (el->vr == MS_VR_SQ) {
        el->nitems = 0;
        r->changed = true;
        return MS_OK;
    }
    return set_value(r, el, NULL, 0);
}

static ms_status map_uids(struct run *r, struct ms_element *el)
{
    const char *v = (const char *)el->value;
    size_t len = el->value ? (size_t)el->length : 0, nvals = 1, pos = 0, start = 0;
    char *out, mapped[MSI_DEID_UID_LEN + 1];
    ms_status st;

    len = trimmed(v, len);
    if (len == 0)
        return MS_OK;
    for (size_t i = 0; i < len; i++)
        nvals += v[i] == '\\';
    out = msi_arena_alloc(el->parent->arena, nvals * (MSI_DEID_UID_LEN + 1));
    if (!out)
        return ms_error_set(r->err, MS_ENOMEM, "out of memory");
    for (size_t i = 0; i <= len; i++) {
        if (i < len && v[i] != '\\')
            continue;
        size_t n = trimmed(v + start, i - start);
        if (pos)
            out[pos++] = '\\';
        if (n) {
            if ((st = msi_deid_map_uid(r->p->key, v + start, n, mapped, r->err)) != MS_OK)
                return st;
            memcpy(out + pos, mapped, strlen(mapped));
            pos += strlen(mapped);
        }
        start = i + 1;
    }
    r->st->uids += (unsigned)nvals;
    el->value = (const uint8_t *)out;
    el->length = pos;
    r->changed = true;
    return MS_OK;
}

static ms_status clean_dataset(struct run *r, struct ms_dataset *ds);

/* True when a sequence is kept only because its action is D or C: its items
 * stay, and the free text and names in them become dummies too. */
static bool is_dummy_sequence(const struct ms_element *el)
{
    const struct msi_deid_rule *rule = msi_deid_find(el->tag);
    return rule && (rule->action == MSI_DEID_D || rule->action == MSI_DEID_C);
}

/* Free text and person names: what a D sequence must not leak. */
static bool is_free_text(ms_vr vr)
{
    return vr == MS_VR_PN || vr == MS_VR_LT || vr == MS_VR_ST || vr == MS_VR_UT ||
           vr == MS_VR_UC;
}

static ms_status recurse(struct run *r, struct ms_element *el)
{
    bool before = r->changed, dummy_seq = is_dummy_sequence(el);
    ms_status st = MS_OK;

    r->changed = false;
    r->dummy_depth += dummy_seq;
    for (uint32_t k = 0; st == MS_OK && k < el->nitems; k++)
        st = clean_dataset(r, el->items[k]);
    r->dummy_depth -= dummy_seq;
    if (st != MS_OK)
        return st;
    if (r->changed)
        r->st->cleaned_sequences++;
    r->changed = r->changed || before;
    return MS_OK;
}

/* Apply the op of ds->els[*i]; *i moves past it unless it was removed. */
static ms_status clean_element(struct run *r, struct ms_dataset *ds, uint32_t *i)
{
    struct ms_element *el = ds->els[*i];
    enum msi_deid_op op = msi_deid_op_for(el->tag, (ms_vr)el->vr, r->p->keep_private);

    if (op == MSI_OP_REMOVE) {
        remove_at(ds, *i);
        r->st->removed++;
        r->changed = true;
        return MS_OK;
    }
    (*i)++;
    if (op == MSI_OP_KEEP && r->dummy_depth && is_free_text((ms_vr)el->vr))
        op = MSI_OP_DUMMY;
    switch (op) {
    case MSI_OP_EMPTY: return empty(r, el);
    case MSI_OP_DUMMY: return dummy(r, el);
    case MSI_OP_UID: return el->vr == MS_VR_UI ? map_uids(r, el) : dummy(r, el);
    case MSI_OP_RECURSE: return el->vr == MS_VR_SQ ? recurse(r, el) : MS_OK;
    default: return MS_OK;
    }
}

static ms_status clean_dataset(struct run *r, struct ms_dataset *ds)
{
    uint32_t i = 0;
    while (i < ds->n) {
        ms_status st = clean_element(r, ds, &i);
        if (st != MS_OK)
            return st;
    }
    return MS_OK;
}

/* ---- clones ---------------------------------------------------------------------------- */

static ms_status clone_level(struct ms_dataset *dst, const struct ms_element *src, bool copy,
                             struct ms_error *err);

static ms_status clone_items(struct ms_element *el, const struct ms_element *src, bool copy,
                             struct ms_error *err)
{
    for (uint32_t k = 0; k < src->nitems; k++) {
        struct ms_dataset *item = msi_element_append_item(el);
        if (!item)
            return ms_error_set(err, MS_ENOMEM, "out of memory");
        item->undef = src->items[k]->undef;
        for (uint32_t j = 0; j < src->items[k]->n; j++) {
            ms_status st = clone_level(item, src->items[k]->els[j], copy, err);
            if (st != MS_OK)
                return st;
        }
        msi_dataset_update_charset(item);
    }
    return MS_OK;
}

static ms_status clone_fill(struct ms_element *el, const struct ms_element *src, bool copy,
                            struct ms_error *err)
{
    struct msi_arena *a = el->parent->arena;
    el->flags = src->flags;
    el->length = src->length;
    el->offset = src->offset;
    el->value = src->value;
    if (copy && src->value && src->length) {
        el->value = msi_arena_dup(a, src->value, (size_t)src->length);
        if (!el->value)
            return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    for (uint32_t k = 0; k < src->nfrags; k++) {
        const uint8_t *d = src->frags[k].data;
        if (copy && src->frags[k].len && !(d = msi_arena_dup(a, d, (size_t)src->frags[k].len)))
            return ms_error_set(err, MS_ENOMEM, "out of memory");
        if (!msi_element_append_fragment(el, d, src->frags[k].len, src->frags[k].offset))
            return ms_error_set(err, MS_ENOMEM, "out of memory");
    }
    return clone_items(el, src, copy, err);
}

static ms_status clone_level(struct ms_dataset *dst, const struct ms_element *src, bool copy,
                             struct ms_error *err)
{
    struct ms_element *el = msi_dataset_append(dst, src->tag, (ms_vr)src->vr);
    if (!el)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    return clone_fill(el, src, copy, err);
}

ms_status msi_deid_clone(struct ms_dataset *dst, const struct ms_element *src,
                         struct ms_error *err)
{
    ms_status st = clone_level(dst, src, false, err);
    if (st == MS_OK && src->tag == MS_TAG_SPECIFIC_CHARSET)
        msi_dataset_update_charset(dst);
    return st;
}

ms_status msi_deid_put_copy(struct ms_dataset *dst, const struct ms_element *src,
                            struct ms_error *err)
{
    struct ms_element *el;
    ms_status st;

    if (src->vr == MS_VR_SQ)
        st = ms_dataset_set_sequence(dst, src->tag, &el, err);
    else
        st = ms_dataset_set_bytes(dst, src->tag, (ms_vr)src->vr, "", 0, err);
    if (st != MS_OK)
        return st;
    el = ms_dataset_get(dst, src->tag);
    if (!el)
        return ms_error_set(err, MS_EINTERNAL, "element vanished");
    st = clone_fill(el, src, true, err);
    if (st == MS_OK && src->tag == MS_TAG_SPECIFIC_CHARSET)
        msi_dataset_update_charset(dst);
    return st;
}

/* ---- top level --------------------------------------------------------------------------- */

/* Clean the top-level element at *i; keep its original in modified when it changed. */
static ms_status clean_top(struct run *r, struct ms_dataset *ds, uint32_t *i,
                           struct ms_dataset *modified)
{
    struct ms_element *el = ds->els[*i];
    uint32_t mark = modified->n;
    ms_status st;

    if (MS_TAG_ELEMENT(el->tag) == 0) { /* group length: not an attribute to restore */
        remove_at(ds, *i);
        return MS_OK;
    }
    if (msi_deid_op_for(el->tag, (ms_vr)el->vr, r->p->keep_private) == MSI_OP_KEEP) {
        (*i)++;
        return MS_OK;
    }
    if ((st = msi_deid_clone(modified, el, r->err)) != MS_OK)
        return st;
    r->changed = false;
    if ((st = clean_element(r, ds, i)) != MS_OK)
        return st;
    if (r->changed)
        r->st->modified_top++;
    else
        modified->n = mark; /* unchanged after all: forget the clone */
    return MS_OK;
}

static ms_status clean_meta(struct run *r, struct ms_dataset *meta)
{
    struct ms_element *el = ms_dataset_get(meta, MS_TAG(0x0002, 0x0003));
    if (el && el->vr == MS_VR_UI) {
        ms_status st = map_uids(r, el);
        if (st != MS_OK)
            return st;
    }
    /* Beyond Table E.1-1: the AE titles name the sending and receiving
     * devices, as Station Name does in the dataset */
    for (uint16_t e = 0x0016; e <= 0x0018; e++)
        ms_dataset_remove(meta, MS_TAG(0x0002, e));
    if (!r->p->keep_private) { /* private information of the File Meta */
        ms_dataset_remove(meta, MS_TAG(0x0002, 0x0100));
        ms_dataset_remove(meta, MS_TAG(0x0002, 0x0102));
    }
    return MS_OK;
}

/* Keep the original of tag (if present) before it is overwritten. */
static ms_status keep_original(struct ms_dataset *ds, uint32_t tag, struct ms_dataset *modified,
                               struct msi_deid_stats *st, struct ms_error *err)
{
    struct ms_element *el = ms_dataset_get(ds, tag);
    if (!el)
        return MS_OK;
    for (uint32_t k = 0; k < modified->n; k++)
        if (modified->els[k]->tag == tag)
            return MS_OK;
    st->modified_top++;
    return msi_deid_clone(modified, el, err);
}

static ms_status set_markers(struct ms_dataset *ds, struct ms_dataset *modified,
                             struct msi_deid_stats *stats, struct ms_error *err)
{
    static const uint32_t tags[] = {TAG_PATIENT_IDENTITY_REMOVED, TAG_DEID_METHOD,
                                    TAG_DEID_METHOD_CODES};
    struct ms_element *seq;
    struct ms_dataset *item;
    ms_status st = MS_OK;

    for (size_t k = 0; st == MS_OK && k < sizeof tags / sizeof tags[0]; k++)
        st = keep_original(ds, tags[k], modified, stats, err);
    if (st == MS_OK)
        st = ms_dataset_set_string(ds, TAG_PATIENT_IDENTITY_REMOVED, MS_VR_CS, "YES", err);
    if (st == MS_OK)
        st = ms_dataset_set_string(ds, TAG_DEID_METHOD, MS_VR_LO, PROFILE_METHOD, err);
    if (st == MS_OK)
        st = ms_dataset_set_sequence(ds, TAG_DEID_METHOD_CODES, &seq, err);
    if (st == MS_OK)
        st = ms_element_add_item(seq, &item, err);
    if (st == MS_OK)
        st = ms_dataset_set_string(item, MS_TAG(0x0008, 0x0100), MS_VR_SH, PROFILE_CODE, err);
    if (st == MS_OK)
        st = ms_dataset_set_string(item, MS_TAG(0x0008, 0x0102), MS_VR_SH, "DCM", err);
    if (st == MS_OK)
        st = ms_dataset_set_string(item, MS_TAG(0x0008, 0x0104), MS_VR_LO, PROFILE_MEANING, err);
    return st;
}

ms_status msi_deid_apply(const struct msi_deid_profile *p, struct ms_file *f,
                         struct ms_dataset *modified, struct msi_deid_stats *stats,
                         struct ms_error *err)
{
    struct run r = {p, stats, err, false, 0};
    struct ms_dataset *ds = f->ds;
    char burned[8];
    uint32_t i = 0;
    ms_status st = MS_OK;

    memset(stats, 0, sizeof *stats);
    while (st == MS_OK && i < ds->n)
        st = clean_top(&r, ds, &i, modified);
    if (st == MS_OK)
        st = clean_meta(&r, f->meta);
    if (st == MS_OK)
        st = set_markers(ds, modified, stats, err);
    if (st != MS_OK)
        return st;
    memset(f->preamble, 0, sizeof f->preamble);
    f->has_preamble = false; /* the writer puts 128 zero bytes */
    stats->burned_in = ms_dataset_get_string(ds, TAG_BURNED_IN, 0, burned, sizeof burned) &&
                       strcmp(burned, "YES") == 0;
    return MS_OK;
}
