/* Value representations (PS3.5 6.2): names, header form, padding, sizes. */
#include "internal.h"

struct vr_info {
    char name[3];
    bool long_length; /* 4-byte length in Explicit VR */
    bool string;
    unsigned size;    /* binary value size, 0 if not fixed-size binary */
    uint8_t pad;
};

static const struct vr_info vr_table[MS_VR_COUNT] = {
    [MS_VR_NONE] = {"--", true, false, 0, 0},
    [MS_VR_AE] = {"AE", false, true, 0, ' '},  [MS_VR_AS] = {"AS", false, true, 0, ' '},
    [MS_VR_AT] = {"AT", false, false, 4, 0},   [MS_VR_CS] = {"CS", false, true, 0, ' '},
    [MS_VR_DA] = {"DA", false, true, 0, ' '},  [MS_VR_DS] = {"DS", false, true, 0, ' '},
    [MS_VR_DT] = {"DT", false, true, 0, ' '},  [MS_VR_FD] = {"FD", false, false, 8, 0},
    [MS_VR_FL] = {"FL", false, false, 4, 0},   [MS_VR_IS] = {"IS", false, true, 0, ' '},
    [MS_VR_LO] = {"LO", false, true, 0, ' '},  [MS_VR_LT] = {"LT", false, true, 0, ' '},
    [MS_VR_OB] = {"OB", true, false, 1, 0},    [MS_VR_OD] = {"OD", true, false, 8, 0},
    [MS_VR_OF] = {"OF", true, false, 4, 0},    [MS_VR_OL] = {"OL", true, false, 4, 0},
    [MS_VR_OV] = {"OV", true, false, 8, 0},    [MS_VR_OW] = {"OW", true, false, 2, 0},
    [MS_VR_PN] = {"PN", false, true, 0, ' '},  [MS_VR_SH] = {"SH", false, true, 0, ' '},
    [MS_VR_SL] = {"SL", false, false, 4, 0},   [MS_VR_SQ] = {"SQ", true, false, 0, 0},
    [MS_VR_SS] = {"SS", false, false, 2, 0},   [MS_VR_ST] = {"ST", false, true, 0, ' '},
    [MS_VR_SV] = {"SV", true, false, 8, 0},    [MS_VR_TM] = {"TM", false, true, 0, ' '},
    [MS_VR_UC] = {"UC", true, true, 0, ' '},   [MS_VR_UI] = {"UI", false, true, 0, 0},
    [MS_VR_UL] = {"UL", false, false, 4, 0},   [MS_VR_UN] = {"UN", true, false, 0, 0},
    [MS_VR_UR] = {"UR", true, true, 0, ' '},   [MS_VR_US] = {"US", false, false, 2, 0},
    [MS_VR_UT] = {"UT", true, true, 0, ' '},   [MS_VR_UV] = {"UV", true, false, 8, 0},
};

static bool valid(ms_vr vr)
{
    return (unsigned)vr < MS_VR_COUNT;
}

const char *ms_vr_name(ms_vr vr)
{
    return valid(vr) ? vr_table[vr].name : "??";
}

ms_vr ms_vr_from_chars(char a, char b)
{
    /* 34 entries: a linear scan is as fast as anything cleverer here */
    for (unsigned i = 1; i < MS_VR_COUNT; i++)
        if (vr_table[i].name[0] == a && vr_table[i].name[1] == b)
            return (ms_vr)i;
    return MS_VR_NONE;
}

bool ms_vr_has_long_length(ms_vr vr)
{
    return valid(vr) && vr_table[vr].long_length;
}

bool ms_vr_is_string(ms_vr vr)
{
    return valid(vr) && vr_table[vr].string;
}

unsigned ms_vr_binary_size(ms_vr vr)
{
    return valid(vr) ? vr_table[vr].size : 0;
}

uint8_t ms_vr_padding(ms_vr vr)
{
    return valid(vr) ? vr_table[vr].pad : 0;
}
