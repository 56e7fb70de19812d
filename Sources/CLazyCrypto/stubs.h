#ifndef HAPPY_LAZY_CRYPTO_STUBS_H
#define HAPPY_LAZY_CRYPTO_STUBS_H
/* What the generated stubs.c and loader.c share; not part of the module's interface (include/lazy_crypto.h). */

#include "include/lazy_crypto.h"

/* One function the stubs call: its name in libcrypto.so.3 and where happy_crypto_load() puts its address. */
struct happy_crypto_symbol {
    const char *name;
    void **slot;
};

/* Every function of stubs.c, ending with {0, 0}. */
extern const struct happy_crypto_symbol happy_crypto_symbols[];

/* Set (release) once every slot is filled; a stub reads it (acquire) before its slot. */
extern int happy_crypto_loaded;

/* A stub called before happy_crypto_load() succeeded: a programming error (a certificate path that does not start
 * with LazyCrypto.load()). Prints the function's name and aborts; never loads the library behind the caller's back. */
__attribute__((noreturn, cold)) void happy_crypto_unloaded(const char *name);

/* `name`'s address in libcrypto.so.3, typed as `name` itself. */
#define HAPPY_CRYPTO_SLOT(name) static __typeof__(&name) happy_crypto_##name
#define HAPPY_CRYPTO_SYMBOL(name) {#name, (void **)&happy_crypto_##name}
#define HAPPY_LAZY(name)                                                            \
    (__extension__({                                                                \
        if (__builtin_expect(!__atomic_load_n(&happy_crypto_loaded, __ATOMIC_ACQUIRE), 0)) \
            happy_crypto_unloaded(#name);                                           \
        happy_crypto_##name;                                                        \
    }))

#endif
