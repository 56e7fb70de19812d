/* Opens libcrypto.so.3 when a certificate flow starts (LazyCrypto.load(); see include/lazy_crypto.h), in the manner
 * of systemd's dlfcn-util: one explicit load that can fail with a reason, every function resolved at once, and an
 * ELF note that tells packagers which library is wanted. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "stubs.h"

/* The ELF dlopen note (https://systemd.io/ELF_DLOPEN_METADATA/): owner "FDO", type 0x407c0c0a, a JSON array naming
 * the library this binary opens at run time, so `readelf -n` and packaging tools (dpkg, rpm) can see the optional
 * dependency that the dynamic section does not list. Emitted as an SHT_NOTE section, which the linker keeps even
 * when it drops unreferenced sections. */
__asm__(".pushsection .note.dlopen,\"a\",%note\n"
        ".balign 4\n"
        ".long 4\n"               /* n_namesz: "FDO" and its NUL */
        ".long 2f - 1f\n"         /* n_descsz: the JSON and its NUL */
        ".long 0x407c0c0a\n"      /* n_type: FDO dlopen */
        ".asciz \"FDO\"\n"
        "1: .asciz \"[{\\\"feature\\\":\\\"certificates\\\","
        "\\\"description\\\":\\\"Certificate logins (login --cert, PKCS#11 tokens, OCSP revocation checks)\\\","
        "\\\"priority\\\":\\\"recommended\\\",\\\"soname\\\":[\\\"libcrypto.so.3\\\"]}]\"\n"
        "2: .balign 4\n"
        ".popsection\n");

int happy_crypto_loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char failure[512];

static void load(void) {
    /* RTLD_GLOBAL, as a linked library would be: OpenSSL's providers (tpm2) loaded later share this copy. */
    void *library = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_GLOBAL);
    if (!library) {
        const char *why = dlerror();
        snprintf(failure, sizeof failure, "%s", why ? why : "not found");
        return;
    }
    for (const struct happy_crypto_symbol *symbol = happy_crypto_symbols; symbol->name; symbol++) {
        void *function = dlsym(library, symbol->name);
        if (!function) {
            snprintf(failure, sizeof failure, "no function %s", symbol->name);
            dlclose(library);
            return;
        }
        *symbol->slot = function;
    }
    __atomic_store_n(&happy_crypto_loaded, 1, __ATOMIC_RELEASE);
}

const char *happy_crypto_load(void) {
    pthread_once(&once, load);
    return __atomic_load_n(&happy_crypto_loaded, __ATOMIC_ACQUIRE) ? NULL : failure;
}

void happy_crypto_unloaded(const char *name) {
    dprintf(2, "happy: internal error: OpenSSL's %s was called before LazyCrypto.load()\n", name);
    abort();
}
