/* MG_UNDER_ASAN is 1 when this file is compiled with AddressSanitizer (gcc or clang): the
 * valgrind tests skip themselves there, because the two cannot run in one process. */
#ifndef MG_TEST_SANITIZER_H
#define MG_TEST_SANITIZER_H

#if defined(__SANITIZE_ADDRESS__)
#define MG_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MG_UNDER_ASAN 1
#endif
#endif

#endif
