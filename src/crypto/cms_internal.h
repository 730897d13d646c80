/* Internals of the `cms` scheme shared by src/crypto/cms*.c: a growable
 * buffer, a streaming BER reader, DER splicing for the streamed writer, and
 * the layout of recipient sets, keyrings and signers. Not installed. */
#ifndef MEDSEAL_CMS_INTERNAL_H
#define MEDSEAL_CMS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "medseal/cms.h"

/* ---- sizes and limits ------------------------------------------------------ */

#define MSI_CMS_SEGMENT_DEFAULT (1u << 20)  /* ciphertext OCTET STRING segment */
#define MSI_CMS_SEGMENT_MAX (16u << 20)
#define MSI_CMS_READ_BUF (1u << 20)          /* input buffer of the BER reader (pipes) */
#define MSI_CMS_MAP_WINDOW (4u << 20)        /* mapped window of a regular input file */
#define MSI_CMS_CHUNK (256u << 10)           /* cipher output per write: stays in L2 */
#define MSI_CMS_MAX_RECIPIENTS_BYTES (4u << 20)
#define MSI_CMS_MAX_SMALL (64u << 10)        /* algorithm ids, attributes, version */
#define MSI_CMS_MAX_CERTS_BYTES (4u << 20)   /* certificates, signerInfos, crls */
#define MSI_CMS_BER_DEPTH 32
#define MSI_CMS_GCM_MAX ((UINT64_C(1) << 36) - 32) /* NIST SP 800-38D: 2^39-256 bits */
#define MSI_CMS_SALT_LEN 16
#define MSI_CMS_KEK_LEN 32

/* The KEKRecipientInfo OtherKeyAttribute identifying an Argon2id passphrase
 * KEK: a UUID-derived OID (ITU-T X.667, arc 2.25), see docs/formats/cms.md. */
#define MSI_CMS_OID_ARGON2ID_KEK "2.25.101879527853901224196416583388249497626"

/* ---- growable buffer ------------------------------------------------------- */

struct msi_buf {
    uint8_t *p;
    size_t len, cap;
};

/** Append n bytes; false when out of memory. */
bool msi_buf_put(struct msi_buf *b, const void *data, size_t n);
/** Free the storage (wiping it first when wipe). */
void msi_buf_free(struct msi_buf *b, bool wipe);
/** Append a DER header: tag byte and definite length. */
bool msi_buf_der_hdr(struct msi_buf *b, uint8_t tag, uint64_t len);
/** Encode tag byte + definite length into out (at most 10 bytes); returns the size. */
size_t msi_der_hdr(uint8_t out[10], uint8_t tag, uint64_t len);

/* ---- pull reader --------------------------------------------------------------- */

/** Fill callback: up to cap bytes into dst, *got = 0 at end of input. */
typedef ms_status (*msi_fill_fn)(void *ctx, uint8_t *dst, size_t cap, size_t *got,
                                 struct ms_error *err);

/* Two modes: a buffer filled by a callback (pipes, memory, decrypted
 * streams), or, for a regular file, read-only mappings of a window of
 * MSI_CMS_MAP_WINDOW bytes that slides along the file: no copy into a buffer,
 * and the mapped (resident) part of the file stays bounded. Either way buf[pos
 * .. len) are the next bytes, valid until the next msi_rd_want(). */
struct msi_rd {
    msi_fill_fn fill;
    void *ctx;
    uint8_t *buf;
    size_t cap, pos, len;
    uint64_t off; /* stream offset of buf[pos] */
    bool eof;
    size_t filled; /* buffer mode: most bytes the buffer ever held (wiped on free) */
    int fd;        /* msi_rd_init_fd(): the file (borrowed) */
    bool mapped;   /* mapping mode */
    uint64_t map_base, map_end; /* mapping mode: file offsets of buf[0] and of the end */
};

ms_status msi_rd_init(struct msi_rd *r, msi_fill_fn fill, void *ctx, size_t cap,
                      struct ms_error *err);
/** Reader of the file descriptor fd from its current offset: mapping mode for
 * a regular file, else a buffer of cap bytes filled by read(). fd is
 * borrowed and must stay open until msi_rd_free(); r must not move (the
 * buffer mode's callback points into it). */
ms_status msi_rd_init_fd(struct msi_rd *r, int fd, size_t cap, struct ms_error *err);
/** Release the buffer (wiped) or the mapping. */
void msi_rd_free(struct msi_rd *r);
/** Try to make n (<= 16) bytes available; fewer only at end of input. */
ms_status msi_rd_want(struct msi_rd *r, size_t n, struct ms_error *err);
static inline size_t msi_rd_avail(const struct msi_rd *r) { return r->len - r->pos; }
/** Consume n (<= msi_rd_avail()) bytes. */
static inline void msi_rd_skip(struct msi_rd *r, size_t n)
{
    r->pos += n;
    r->off += n;
}
/** Bytes left in the input, when known (mapping mode); UINT64_MAX otherwise. */
uint64_t msi_rd_remaining(const struct msi_rd *r);
/** Fill callback reading a file descriptor (ctx points to an int). */
ms_status msi_fd_fill(void *ctx, uint8_t *dst, size_t cap, size_t *got, struct ms_error *err);

/* ---- streaming BER ----------------------------------------------------------- */

/** One identifier + length header as read. first is the first identifier
 * octet (class, constructed bit, tag number or 0x1f); num the tag number. */
struct msi_tlv {
    uint8_t first;
    bool cons;
    bool indef;
    uint32_t num;
    uint64_t len;
    uint8_t raw[16];
    size_t rawlen;
};

struct msi_ber {
    struct msi_rd *rd;
    int depth;
    struct {
        bool indef;
        uint64_t end;
    } stk[MSI_CMS_BER_DEPTH];
    uint64_t limit; /* end of the innermost definite element, UINT64_MAX if none */
};

void msi_ber_init(struct msi_ber *b, struct msi_rd *rd);
/** Read the header at the current position (also end-of-contents 00 00). */
ms_status msi_ber_hdr(struct msi_ber *b, struct msi_tlv *h, struct ms_error *err);
/** Read a header and require the identifier octet `first`; what names it. */
ms_status msi_ber_expect(struct msi_ber *b, uint8_t first, struct msi_tlv *h, const char *what,
                         struct ms_error *err);
/** Identifier octet of the next element, or -1 when the innermost element
 * (or the input) ends here. */
ms_status msi_ber_peek(struct msi_ber *b, int *first, struct ms_error *err);
/** Enter the constructed element whose header was just read. */
ms_status msi_ber_enter(struct msi_ber *b, const struct msi_tlv *h, struct ms_error *err);
/** Leave the innermost element: its end must be here. */
ms_status msi_ber_leave(struct msi_ber *b, struct ms_error *err);
/** Append the whole encoding of the element whose header h was just read
 * (header included) to out, failing with MS_ELIMIT past max bytes. out may be
 * NULL to skip. */
ms_status msi_ber_capture(struct msi_ber *b, const struct msi_tlv *h, size_t max,
                          struct msi_buf *out, struct ms_error *err);
/** Read a header, require `first`, and capture the element. */
ms_status msi_ber_take(struct msi_ber *b, uint8_t first, size_t max, struct msi_buf *out,
                       const char *what, struct ms_error *err);

/** Reader of the content octets of an OCTET STRING (primitive or
 * constructed, definite or indefinite, nested). */
struct msi_octets {
    struct msi_ber *b;
    int base_depth;
    uint64_t seg_left;
    bool primitive;
    bool done;
};

/** Start reading the string whose header h was just read. */
ms_status msi_octets_open(struct msi_octets *o, struct msi_ber *b, const struct msi_tlv *h,
                          struct ms_error *err);
/** Next run of content octets: *p points into the reader's buffer (valid
 * until the next read), *n > 0; *n == 0 when the string has ended. */
ms_status msi_octets_next(struct msi_octets *o, const uint8_t **p, size_t *n,
                          struct ms_error *err);

/* ---- DER helpers for the writer --------------------------------------------- */

/** Parse one DER TLV at p (definite lengths only): header size and content
 * length; false if malformed or past len. */
bool msi_der_tlv(const uint8_t *p, size_t len, uint8_t *tag, size_t *hdr, size_t *clen);
/** Index of the first child of the constructed DER element at p whose tag
 * is `tag`, or -1. */
int msi_der_find_child(const uint8_t *p, size_t len, uint8_t tag);

/** Split the DER element der (e.g. a ContentInfo from i2d) for streaming:
 * path[] are child indices from the root to a target element. prefix gets
 * every element on the path as an indefinite-length header, the children
 * before the path, and all children of the target; suffix gets, from the
 * target up, an end-of-contents then the children after the path. Content
 * appended inside the target goes between the two. */
ms_status msi_der_splice(const uint8_t *der, size_t len, const int *path, int npath,
                         struct msi_buf *prefix, struct msi_buf *suffix, struct ms_error *err);

/* ---- objects ------------------------------------------------------------------ */

struct msi_cms_cert_recip {
    X509 *cert;
    bool ec; /* key agreement (EC) rather than key transport (RSA) */
};

struct msi_cms_pass_recip {
    uint8_t kek[MSI_CMS_KEK_LEN];
    uint8_t salt[MSI_CMS_SALT_LEN];
    uint32_t t, m_kib;
};

struct msi_cms_tmpl;

struct ms_cms_recipients {
    struct msi_cms_cert_recip *certs;
    size_t ncerts, capcerts;
    struct msi_cms_pass_recip *pass;
    size_t npass, cappass;
    pthread_mutex_t lock;       /* guards the template cache */
    struct msi_cms_tmpl *tmpl;  /* built on the first encryption; dropped when a recipient is added */
    bool tmpl_tried;
};

struct ms_cms_signer {
    EVP_PKEY *pkey;
    X509 *cert;
};

struct msi_cms_key {
    EVP_PKEY *pkey;
    X509 *cert; /* may be NULL */
};

struct msi_cms_secret {
    uint8_t *p;
    size_t len;
};

struct msi_cms_kek_cache {
    size_t pass_index;
    uint8_t salt[MSI_CMS_SALT_LEN];
    uint32_t t, m_kib;
    uint8_t kek[MSI_CMS_KEK_LEN];
};

#define MSI_CMS_KEK_CACHE 32

struct ms_cms_keyring {
    struct msi_cms_key *keys;
    size_t nkeys, capkeys;
    struct msi_cms_secret *pass;
    size_t npass, cappass;
    STACK_OF(X509) *trusted;
    pthread_mutex_t lock; /* guards the cache */
    struct msi_cms_kek_cache cache[MSI_CMS_KEK_CACHE];
    size_t ncache, next_slot;
};

/* ---- keys (cms_keys.c) ------------------------------------------------------------ */

/** The Argon2id KEK OID (static object, do not free). */
const ASN1_OBJECT *msi_cms_argon2id_oid(void);
/** DER of the Argon2id parameters (SEQUENCE { version 19, t, m, p 1 }). */
ASN1_TYPE *msi_cms_argon2id_params_encode(uint32_t t, uint32_t m_kib);
/** Parse them back; MS_EMALFORMED / MS_EUNSUPPORTED / MS_ELIMIT. */
ms_status msi_cms_argon2id_params_decode(const ASN1_TYPE *type, uint32_t *t, uint32_t *m_kib,
                                         struct ms_error *err);
/** KEK for (passphrase index, salt, cost), from the keyring's cache or derived
 * (and then cached). */
ms_status msi_cms_keyring_kek(const struct ms_cms_keyring *k, size_t pass_index,
                              const uint8_t salt[MSI_CMS_SALT_LEN], uint32_t t, uint32_t m_kib,
                              uint8_t kek[MSI_CMS_KEK_LEN], struct ms_error *err);

/* ---- recipient infos (cms_recipients.c) --------------------------------------------- */

/** Add a RecipientInfo to cms for every recipient of r: RSA-OAEP-SHA256 (or
 * PKCS#1 v1.5 with rsa_pkcs1) and ECDH X9.63-SHA256 for certificates, the
 * Argon2id KEKRecipientInfo for passphrases. */
ms_status msi_cms_add_recipients(CMS_ContentInfo *cms, const struct ms_cms_recipients *r,
                                 bool rsa_pkcs1, struct ms_error *err);
/** Set the content key of cms from the first key, then passphrase (medseal's
 * Argon2id recipients), of k that opens a recipient; opened_by gets "RSA
 * key", "EC key" or "passphrase". Errors: MS_EUSAGE (k is empty), MS_EKEY
 * (nothing opens: the message counts the recipients), MS_EMALFORMED /
 * MS_EUNSUPPORTED / MS_ELIMIT (a broken or greedy passphrase recipient),
 * MS_ENOMEM. */
ms_status msi_cms_open_recipient(CMS_ContentInfo *cms, const struct ms_cms_keyring *k,
                                 char *opened_by, size_t cap, struct ms_error *err);

/* ---- envelope template (cms_template.c) ------------------------------------------- */

#define MSI_CMS_TMPL_TAIL 28 /* bytes after the last ciphertext segment */

/** The envelope template of r (AuthEnvelopedData, AES-256-GCM): built by the
 * first call from envelopes OpenSSL's CMS layer encodes for r, then shared.
 * *out is NULL (MS_OK) when r has a shape the template does not cover (more
 * than 8 recipients, an encoding other than the one documented): the caller
 * then uses OpenSSL's CMS layer. *out is borrowed, valid until r changes or
 * is destroyed. Thread-safe. Errors: MS_ENOMEM, MS_EINTERNAL, and those of
 * OpenSSL's CMS layer for r (then retried on the next call). */
ms_status msi_cms_tmpl_get(const struct ms_cms_recipients *r, const struct msi_cms_tmpl **out,
                           struct ms_error *err);
/** Free a template (owned by its recipient set). NULL is a no-op. */
void msi_cms_tmpl_free(struct msi_cms_tmpl *t);
/** Bytes of the head of every envelope of t (up to the content). */
size_t msi_cms_tmpl_head_len(const struct msi_cms_tmpl *t);
/** One envelope: a fresh random content-encryption key and nonce, the key
 * wrapped for every recipient, the head written to head
 * (msi_cms_tmpl_head_len() bytes), and ctx (new or reset) set up for
 * AES-256-GCM encryption with that key and nonce. The key itself is wiped.
 * Errors: MS_ENOMEM, MS_EINTERNAL. Thread-safe (t is read only). */
ms_status msi_cms_tmpl_begin(const struct msi_cms_tmpl *t, EVP_CIPHER_CTX *ctx, uint8_t *head,
                             struct ms_error *err);
/** Finish ctx and write the end of the envelope (end of content, MAC = the
 * GCM tag, ends of the enclosing elements) to out. Errors: MS_EINTERNAL. */
ms_status msi_cms_tmpl_end(EVP_CIPHER_CTX *ctx, uint8_t out[MSI_CMS_TMPL_TAIL],
                           struct ms_error *err);

/* ---- encryption helpers for the decryptor and the probe (cms_decrypt.c) ------- */

/** Parsed head of an envelope, up to the content (used by the probe too). */
struct msi_cms_head {
    enum ms_cms_kind kind;
    bool auth;                   /* AuthEnvelopedData */
    bool signed_inner;           /* EncryptedContentInfo content type is signedData */
    bool detached;               /* no encryptedContent */
    struct msi_buf oid, version, orig, ris, ctype, alg;
    struct msi_tlv content;      /* header of encryptedContent when present */
};

void msi_cms_head_free(struct msi_cms_head *h);
/** Read the head of an envelope from b; kind MS_CMS_NOT_CMS / MS_CMS_OTHER
 * stop early with MS_OK. */
ms_status msi_cms_head_read(struct msi_ber *b, struct msi_cms_head *h, struct ms_error *err);
/** Add the recipients of cms to the counts of info (EC: one per recipient key). */
void msi_cms_count_recipients(CMS_ContentInfo *cms, struct ms_cms_info *info);
/** A CMS_ContentInfo holding the head only (empty content and mac), for
 * OpenSSL's recipient processing. */
ms_status msi_cms_head_to_cms(const struct msi_cms_head *h, CMS_ContentInfo **out,
                              struct ms_error *err);

#endif
