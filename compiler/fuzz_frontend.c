/* fuzz_frontend.c — libFuzzer target for riverc's front end and emitters.
 *
 * Each input is compiled as one .rvr file from memory (imports are
 * reported as missing): lexer, parser with error recovery, every semantic
 * check, diagnostics rendering, and, when the input is valid, all three
 * emitters.  ASan/UBSan (see `make fuzz`) turn crashes, leaks and undefined
 * behaviour into findings. */
#include <stdio.h>
#include <stdlib.h>
#include "diag.h"
#include "emit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (!sink)
        sink = fopen("/dev/null", "w");
    if (size > (1u << 20))
        return 0;
    ctx c = { 0 };
    c.ar = arena_new();
    c.files_tail = &c.files;
    c.out = sink;
    c.max_errors = 1000;
    rvfile *f = load_memory(&c, "fuzz.rvr", (const char *)data, size);
    check_file(&c, f);
    if (c.nerrors == 0) {
        strbuf b = { 0 };
        emit_header(&c, f, "fuzz", &b);
        emit_source(&c, f, "fuzz", &b);
        emit_proto(&c, f, "fuzz", &b);
        sb_free(&b);
    }
    arena_free(c.ar);
    return 0;
}
