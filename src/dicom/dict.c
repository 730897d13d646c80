/* Data dictionary lookups over the table generated from PS3.6, and tag
 * parsing. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#include "dict_table.inc"

struct private_entry {
    const char *creator;
    uint32_t tag, mask;
    ms_vr vr;
    const char *name;
};

#include "private_table.inc"

#define PRIVATE_COUNT (sizeof private_table / sizeof private_table[0])

#define DICT_ALL (sizeof dict_table / sizeof dict_table[0])
#define KEYWORDS (sizeof dict_by_keyword / sizeof dict_by_keyword[0])

static const struct ms_dict_entry group_length_entry = {
    0, 0xFFFF0000u, MS_VR_UL, MS_VR_NONE, MS_VR_NONE, "1", "GenericGroupLength", "Group Length",
    false};
static const struct ms_dict_entry private_creator_entry = {
    0, 0, MS_VR_LO, MS_VR_NONE, MS_VR_NONE, "1", "PrivateCreator", "Private Creator", false};

const struct ms_dict_entry *ms_dict_find(uint32_t tag)
{
    size_t lo = 0, hi = MSI_DICT_EXACT;
    uint16_t group = MS_TAG_GROUP(tag), elem = MS_TAG_ELEMENT(tag);

    if (group & 1) {
        if (elem >= 0x0010 && elem <= 0x00FF)
            return &private_creator_entry;
        if (elem == 0)
            return &group_length_entry;
        return NULL;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (dict_table[mid].tag < tag)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < MSI_DICT_EXACT && dict_table[lo].tag == tag)
        return &dict_table[lo];
    for (size_t i = MSI_DICT_EXACT; i < DICT_ALL; i++)
        if ((tag & dict_table[i].mask) == dict_table[i].tag)
            return &dict_table[i];
    if (elem == 0)
        return &group_length_entry;
    return NULL;
}

ms_vr ms_dict_private_vr(const char *creator, uint32_t tag)
{
    size_t lo = 0, hi = PRIVATE_COUNT;
    while (lo < hi) { /* first entry of the creator */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(private_table[mid].creator, creator) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < PRIVATE_COUNT && strcmp(private_table[lo].creator, creator) == 0; lo++)
        if ((tag & private_table[lo].mask) == private_table[lo].tag)
            return private_table[lo].vr;
    return MS_VR_NONE;
}

const struct ms_dict_entry *ms_dict_find_keyword(const char *keyword)
{
    size_t lo = 0, hi = KEYWORDS;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(dict_table[dict_by_keyword[mid]].keyword, keyword);
        if (c == 0)
            return &dict_table[dict_by_keyword[mid]];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static bool parse_hex(const char *s, size_t n, uint32_t *out)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)s[i]))
            return false;
        v = (v << 4) | (uint32_t)(isdigit((unsigned char)s[i]) ? s[i] - '0'
                                                                : (tolower((unsigned char)s[i]) - 'a' + 10));
    }
    *out = v;
    return true;
}

bool ms_tag_parse(const char *text, uint32_t *tag)
{
    size_t n = strlen(text);
    uint32_t g, e;
    const struct ms_dict_entry *d;

    if (n == 11 && text[0] == '(' && text[5] == ',' && text[10] == ')')
        return parse_hex(text + 1, 4, &g) && parse_hex(text + 6, 4, &e) &&
               (*tag = MS_TAG(g, e), true);
    if (n == 9 && text[4] == ',')
        return parse_hex(text, 4, &g) && parse_hex(text + 5, 4, &e) && (*tag = MS_TAG(g, e), true);
    if (n == 8 && parse_hex(text, 8, &g)) {
        *tag = g;
        return true;
    }
    d = ms_dict_find_keyword(text);
    if (d && d->mask == 0xFFFFFFFFu) {
        *tag = d->tag;
        return true;
    }
    return false;
}
