/* medseal — lossless pixel data codecs and transfer syntax conversion:
 * RLE Lossless (PS3.5 Annex G, own implementation), JPEG-LS lossless
 * (CharLS), Deflated Explicit VR Little Endian (zlib, on write). Decoding
 * gives back exactly the stored bits that were encoded. */
#ifndef MEDSEAL_CODEC_H
#define MEDSEAL_CODEC_H

#include <stdbool.h>
#include <stdint.h>

#include "medseal/dicom.h"
#include "medseal/pixel.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MS_TS_RLE "1.2.840.10008.1.2.5"
#define MS_TS_JPEG_LS "1.2.840.10008.1.2.4.80"

/** True when medseal can decode (and encode) pixel data of this syntax. */
bool ms_codec_supported(const struct ms_transfer_syntax *ts);

/** Convert f to the transfer syntax ts: native <-> RLE Lossless or JPEG-LS
 * lossless (one fragment per frame, Basic Offset Table filled), or between
 * native syntaxes (Implicit/Explicit LE, Explicit BE, Deflated: only the
 * encoding changes). When decoding to a native syntax, Pixel Data gets VR
 * pixel_vr (MS_VR_OB or MS_VR_OW; MS_VR_NONE = OW above 8 bits allocated,
 * else OB). The new Pixel Data is owned by f.
 * Errors: MS_EUNSUPPORTED (a codec medseal lacks, or an image the codec
 * cannot take: e.g. JPEG-LS above 16 bits), MS_EMALFORMED (corrupt
 * compressed data, or a frame that decodes to the wrong size), MS_ENOMEM. */
MS_NODISCARD ms_status ms_file_transcode(struct ms_file *f, const struct ms_transfer_syntax *ts,
                                         ms_vr pixel_vr, struct ms_error *err);

/** RLE Lossless encoding of one native frame (samples interleaved or planar
 * as in info) into a newly allocated segment set (*out, *out_len; caller
 * frees with free()). */
MS_NODISCARD ms_status ms_rle_encode_frame(const struct ms_pixel_info *info, const uint8_t *frame,
                                           uint8_t **out, size_t *out_len, struct ms_error *err);
/** Decode one RLE frame into frame_bytes bytes at out (layout as info says). */
MS_NODISCARD ms_status ms_rle_decode_frame(const struct ms_pixel_info *info, const uint8_t *in,
                                           size_t len, uint8_t *out, struct ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
