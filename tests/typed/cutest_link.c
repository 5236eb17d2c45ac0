/* cutest_link.c — the shared CUnit runner, compiled into these test
 * programs (this directory may be built before tests/libcutest.la). */
#include "../cutest.c"
