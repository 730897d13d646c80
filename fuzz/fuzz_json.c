/* Fuzz target: the DICOM JSON Model writer (PS3.18 F.2).
 *
 * Each input is parsed; a parsed file is written as JSON with and without a
 * bulk data threshold (options picked from the first input byte), and every
 * output must be one JSON object that json-c accepts in strict mode, with
 * valid UTF-8, whose keys are eight hex digits and whose members carry a
 * "vr". json_tokener_parse() itself stops at 32 levels, less than the
 * reader's default nesting limit needs (three JSON levels per sequence), so
 * the tokener is made with a larger depth. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common.h"
#include "medseal/dicom.h"

#define MAX_JSON ((size_t)16 << 20)
#define JSON_DEPTH 1024

static void check_dataset(struct json_object *obj, unsigned depth);

static bool is_tag_key(const char *k)
{
    if (strlen(k) != 8)
        return false;
    for (int i = 0; i < 8; i++)
        if (!isxdigit((unsigned char)k[i]) || islower((unsigned char)k[i]))
            return false;
    return true;
}

static void check_element(struct json_object *el, unsigned depth)
{
    struct json_object *vr, *value;

    FUZZ_ASSERT(json_object_is_type(el, json_type_object));
    FUZZ_ASSERT(json_object_object_get_ex(el, "vr", &vr));
    FUZZ_ASSERT(json_object_is_type(vr, json_type_string) && json_object_get_string_len(vr) == 2);
    if (!json_object_object_get_ex(el, "Value", &value))
        return;
    FUZZ_ASSERT(json_object_is_type(value, json_type_array));
    if (strcmp(json_object_get_string(vr), "SQ") != 0)
        return;
    for (size_t i = 0; i < json_object_array_length(value); i++)
        check_dataset(json_object_array_get_idx(value, i), depth + 1);
}

static void check_dataset(struct json_object *obj, unsigned depth)
{
    FUZZ_ASSERT(depth < JSON_DEPTH);
    FUZZ_ASSERT(json_object_is_type(obj, json_type_object));
    json_object_object_foreach(obj, key, val)
    {
        FUZZ_ASSERT(is_tag_key(key));
        check_element(val, depth);
    }
}

/* The whole text is one strictly valid JSON object. */
static void validate(const struct fuzz_buf *out)
{
    struct json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
    struct json_object *obj;
    size_t end;

    if (!tok)
        return;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    obj = json_tokener_parse_ex(tok, (const char *)out->data, (int)out->len);
    if (!obj) {
        enum json_tokener_error e = json_tokener_get_error(tok);
        fprintf(stderr, "invalid JSON at %zu of %zu: %s\n", json_tokener_get_parse_end(tok),
                out->len, json_tokener_error_desc(e));
        fprintf(stderr, "%.*s\n", (int)(out->len > 4000 ? 4000 : out->len),
                (const char *)out->data);
    }
    FUZZ_ASSERT(obj != NULL);
    end = json_tokener_get_parse_end(tok);
    while (end < out->len && isspace(out->data[end]))
        end++;
    FUZZ_ASSERT(end == out->len);
    check_dataset(obj, 0);
    json_object_put(obj);
    json_tokener_free(tok);
}

static void write_json(struct ms_file *f, const struct ms_json_options *jo)
{
    struct fuzz_buf out = {0};
    struct ms_error err;
    ms_status st;

    fuzz_buf_reset(&out, MAX_JSON);
    st = ms_file_write_json(f, jo, fuzz_buf_sink, &out, &err);
    FUZZ_ASSERT(st == MS_OK || st == MS_ENOMEM);
    if (st == MS_OK && !out.overflow)
        validate(&out);
    fuzz_buf_reset(&out, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ms_file *f = NULL;
    struct ms_error err;
    struct ms_read_options opt = {0};
    struct ms_json_options jo = {0};
    uint8_t mode = size ? data[0] : 0;
    size_t warned = 0;

    opt.warn = fuzz_warn;
    opt.warn_ctx = &warned;
    opt.stop_before_pixels = mode & 1;
    if (ms_file_read_memory(&f, data, size, &opt, &err) != MS_OK)
        return 0;

    jo.include_meta = true;
    jo.pretty = mode & 2;
    write_json(f, &jo);

    jo.include_meta = mode & 4;
    jo.pretty = false;
    jo.bulk_threshold = (mode & 8) ? 1 : 64;
    jo.bulk_uri_base = (mode & 16) ? "file:///tmp/a \"b\"\\c.dcm" : NULL;
    write_json(f, &jo);

    ms_file_destroy(f);
    return 0;
}
