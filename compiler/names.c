/* names.c — reserved words and the names of the built-in types.
 *
 * A .rvr identifier becomes part of C identifiers (struct members, function
 * and type names) in headers that C and C++ compilers read, so the words
 * reserved by C11, C23, C++20 and a few macros every C library defines are
 * refused, as are the macros of the headers generated code includes and the
 * name patterns the generated code uses itself (PB_*, RVR_*, a trailing _). */
#include <string.h>
#include "ast.h"

static const char *const c_words[] = {   /* C11 and C23 */
    "_Alignas", "_Alignof", "_Atomic", "_Bool", "_Complex", "_Generic", "_Imaginary",
    "_Noreturn", "_Static_assert", "_Thread_local", "alignas", "alignof", "auto", "bool",
    "break", "case", "char", "const", "constexpr", "continue", "default", "do", "double",
    "else", "enum", "extern", "false", "float", "for", "goto", "if", "inline", "int",
    "long", "nullptr", "register", "restrict", "return", "short", "signed", "sizeof",
    "static", "static_assert", "struct", "switch", "thread_local", "true", "typedef",
    "typeof", "typeof_unqual", "union", "unsigned", "void", "volatile", "while",
};

static const char *const cxx_words[] = {   /* C++20 */
    "and", "and_eq", "asm", "bitand", "bitor", "catch", "char16_t", "char32_t", "char8_t",
    "class", "co_await", "co_return", "co_yield", "compl", "concept", "const_cast",
    "consteval", "constinit", "decltype", "delete", "dynamic_cast", "explicit", "export",
    "friend", "mutable", "namespace", "new", "noexcept", "not", "not_eq", "operator", "or",
    "or_eq", "private", "protected", "public", "reinterpret_cast", "requires",
    "static_cast", "template", "this", "throw", "try", "typeid", "typename", "using",
    "virtual", "wchar_t", "xor", "xor_eq",
};

/* Macros of the C library, predefined by compilers, and object-like macros
 * of the headers generated code includes (math.h, stdint.h, stdlib.h,
 * limits.h via pb.h). */
static const char *const macros[] = {
    "EOF", "NULL", "assert", "errno", "linux", "offsetof", "setjmp", "stderr", "stdin",
    "stdout", "unix", "va_arg", "va_copy", "va_end", "va_start",
    "BUFSIZ", "CHAR_BIT", "CHAR_MAX", "CHAR_MIN", "EXIT_FAILURE", "EXIT_SUCCESS", "HUGE_VAL",
    "HUGE_VALF", "HUGE_VALL", "INFINITY", "LLONG_MAX", "LLONG_MIN", "LONG_MAX", "LONG_MIN",
    "MATH_ERREXCEPT", "MATH_ERRNO", "MB_CUR_MAX", "MB_LEN_MAX", "NAN", "PTRDIFF_MAX",
    "PTRDIFF_MIN", "RAND_MAX", "SCHAR_MAX", "SCHAR_MIN", "SHRT_MAX", "SHRT_MIN",
    "SIG_ATOMIC_MAX", "SIG_ATOMIC_MIN", "SIZE_MAX", "UCHAR_MAX", "ULLONG_MAX", "ULONG_MAX",
    "USHRT_MAX", "WCHAR_MAX", "WCHAR_MIN", "WINT_MAX", "WINT_MIN", "math_errhandling",
};

static bool has_prefix(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }

static bool has_suffix(const char *s, const char *x)
{
    size_t n = strlen(s), m = strlen(x);
    return n >= m && !strcmp(s + n - m, x);
}

const char *reserved_reason(const char *s)
{
    for (size_t i = 0; i < sizeof c_words / sizeof c_words[0]; i++)
        if (!strcmp(c_words[i], s))
            return "a reserved word in C";
    for (size_t i = 0; i < sizeof cxx_words / sizeof cxx_words[0]; i++)
        if (!strcmp(cxx_words[i], s))
            return "a reserved word in C++";
    for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++)
        if (!strcmp(macros[i], s))
            return "a macro of the C library";
    if ((has_prefix(s, "INT") || has_prefix(s, "UINT"))
        && (has_suffix(s, "_MAX") || has_suffix(s, "_MIN") || has_suffix(s, "_C")))
        return "a macro of the C library";
    if (has_prefix(s, "M_") || has_prefix(s, "FP_"))
        return "reserved for macros of <math.h> (M_*, FP_*)";
    if (has_prefix(s, "PB_") || has_prefix(s, "RVR_") || has_suffix(s, "_"))
        return "reserved for generated code (PB_*, RVR_*, names ending in '_')";
    return NULL;
}

bool is_reserved_word(const char *s)
{
    return reserved_reason(s) != NULL;
}

const char *tkind_name(tkind k)
{
    static const char *const names[] = {
        "?", "bool", "int32", "int64", "uint32", "uint64", "float", "double",
        "string", "bytes", "uuid", "any", "named",
    };
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}
