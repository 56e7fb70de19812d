/* Loads libcrypto.so.3 the first time happy calls into OpenSSL (see include/lazy_crypto.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "lazy_crypto.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void *library;
static char failure[512];

static void load(void) {
    /* RTLD_GLOBAL, as a linked library would be: the PKCS#11 engine OpenSSL loads later shares this copy. */
    library = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_GLOBAL);
    if (!library) {
        const char *why = dlerror();
        snprintf(failure, sizeof failure, "%s", why ? why : "not found");
    }
}

void *happy_crypto_symbol(const char *name) {
    pthread_once(&once, load);
    void *function = library ? dlsym(library, name) : NULL;
    if (!function) {
        /* No credential is written before the certificate work that brings us here, so stopping leaves nothing
         * half done. */
        dprintf(2, "happy: OpenSSL's libcrypto.so.3 cannot be used (%s%s); install libssl3\n",
                library ? "no function " : "", library ? name : failure);
        _exit(1);
    }
    return function;
}
