#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/provider.h>
#include <openssl/proverr.h>
#include <openssl/ocsp.h>
#include <openssl/rsa.h>
#include <openssl/decoder.h>
#include <openssl/crypto.h>

/* Macros and stack helpers Swift cannot import directly. */
static inline int happy_sk_X509_num(const STACK_OF(X509) *sk) { return sk_X509_num(sk); }
static inline X509 *happy_sk_X509_value(const STACK_OF(X509) *sk, int i) { return sk_X509_value(sk, i); }
static inline void happy_sk_X509_pop_free(STACK_OF(X509) *sk) { sk_X509_pop_free(sk, X509_free); }
static inline int happy_sk_GENERAL_NAME_num(const GENERAL_NAMES *sk) { return sk_GENERAL_NAME_num(sk); }
static inline GENERAL_NAME *happy_sk_GENERAL_NAME_value(const GENERAL_NAMES *sk, int i) { return sk_GENERAL_NAME_value(sk, i); }
static inline void happy_GENERAL_NAMES_free(GENERAL_NAMES *sk) { GENERAL_NAMES_free(sk); }
static inline void happy_openssl_free(void *p) { OPENSSL_free(p); }
static inline long happy_BIO_get_mem_data(BIO *b, char **pp) { return BIO_get_mem_data(b, pp); }

/* Names printed in RFC 2253 order and escaping, but with UTF-8 left readable instead of \XX escapes. */
static inline unsigned long happy_XN_FLAG_RFC2253_UTF8(void) { return XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB; }
/* Error-queue decoding (function-like macros and composite constants in OpenSSL 3). */
static inline int happy_ERR_GET_LIB(unsigned long e) { return ERR_GET_LIB(e); }
static inline int happy_ERR_GET_REASON(unsigned long e) { return ERR_GET_REASON(e); }
static inline int happy_ERR_R_UNSUPPORTED(void) { return ERR_R_UNSUPPORTED; }
static inline int happy_ERR_R_FETCH_FAILED(void) { return ERR_R_FETCH_FAILED; }
/* OCSP (the revocation preflight): string stacks from X509_get1_ocsp, and X509 stacks built by hand. */
static inline int happy_sk_OPENSSL_STRING_num(const STACK_OF(OPENSSL_STRING) *sk) { return sk_OPENSSL_STRING_num(sk); }
static inline const char *happy_sk_OPENSSL_STRING_value(const STACK_OF(OPENSSL_STRING) *sk, int i) {
    return sk_OPENSSL_STRING_value(sk, i);
}
static inline STACK_OF(X509) *happy_sk_X509_new_null(void) { return sk_X509_new_null(); }
static inline int happy_sk_X509_push(STACK_OF(X509) *sk, X509 *x) { return sk_X509_push(sk, x); }
static inline void happy_sk_X509_free(STACK_OF(X509) *sk) { sk_X509_free(sk); }
static inline int happy_V_OCSP_CERTSTATUS_GOOD(void) { return V_OCSP_CERTSTATUS_GOOD; }
static inline int happy_V_OCSP_CERTSTATUS_REVOKED(void) { return V_OCSP_CERTSTATUS_REVOKED; }
static inline int happy_OCSP_RESPONSE_STATUS_SUCCESSFUL(void) { return OCSP_RESPONSE_STATUS_SUCCESSFUL; }
/* Device keys (a TPM's, through the tpm2 provider): composite selection and padding constants. */
static inline int happy_EVP_PKEY_KEYPAIR(void) { return EVP_PKEY_KEYPAIR; }
static inline int happy_RSA_PKCS1_PADDING(void) { return RSA_PKCS1_PADDING; }
static inline int happy_RSA_PKCS1_PSS_PADDING(void) { return RSA_PKCS1_PSS_PADDING; }
static inline int happy_RSA_PSS_SALTLEN_DIGEST(void) { return RSA_PSS_SALTLEN_DIGEST; }
