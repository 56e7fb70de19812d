/* The PKCS#11 API as p11-kit ships it, with its GNU names (types and constants only; modules are reached with
 * dlopen and C_GetFunctionList). */
#define CRYPTOKI_GNU 1
#include <p11-kit-1/p11-kit/pkcs11.h>
