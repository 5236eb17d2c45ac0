/* parser.y — grammar of the .rvr language (see docs/language.md).
 *
 * A pure (reentrant) bison parser with locations over the reentrant flex
 * scanner in lexer.l.  It builds the tree of ast.h; semantic checks happen
 * later (check.c).  Syntax errors are reported gcc-style and the parser
 * recovers at the next ';' or '}', so every syntax error of a file is shown.
 * %expect 0: a new conflict fails the build. */
%require "3.6"
%define api.pure full
%define api.location.type {srcloc}
%define parse.error custom
%locations
%expect 0
%parse-param {void *scanner} {struct pstate *ps}
%lex-param {void *scanner}

%code requires {
#include "ast.h"
struct pstate { ctx *c; rvfile *f; };
}

%union {
    struct { uint64_t u; bool overflow; } num;
    double d;
    const char *s;
    int tk;
    typeref ty;
    field *fld;
    constval *cv;
    enumval *ev;
    tlist *tl;
    decl *dcl;
    struct { bool is_array, has_bound; uint64_t bound; srcloc loc; } arr;
    struct { bool has; uint64_t n; srcloc loc; } fnum;
}

%code {
#include <string.h>
#include "diag.h"
#include "lexer.h"

#define AR (ps->c->ar)
static void yyerror(srcloc *loc, void *scanner, struct pstate *ps, const char *msg);
static decl *new_decl(struct pstate *ps, dkind k, const char *name, srcloc loc);
static void add_decl(struct pstate *ps, decl *d);
#define REVERSE(type, list) do {                         \
        type *r_ = NULL, *n_;                            \
        for (type *p_ = (list); p_; p_ = n_) {           \
            n_ = p_->next; p_->next = r_; r_ = p_;       \
        }                                                \
        (list) = r_;                                     \
    } while (0)
}

%token END 0 "end of file"
%token PACKAGE "package" IMPORT "import" ENUM "enum" MESSAGE "message" VR "vr"
%token SENDS "sends" RECEIVES "receives" TRUE "true" FALSE "false"
%token ELLIPSIS "..."
%token <tk> TYPE "type name"
%token <s> IDENT "identifier" STRING "string literal"
%token <num> INT "integer"
%token <d> FLOAT "number"

%type <s> qname
%type <ty> type
%type <fld> members member params param_list param
%type <cv> const opt_default
%type <ev> enumvals enumval
%type <tl> tlist
%type <dcl> vritems
%type <arr> opt_array
%type <fnum> opt_number

%%

file: package items ;

package
    : %empty
    | "package" qname ';'   { ps->f->package = $2; ps->f->pkg_loc = @2; }
    ;

qname
    : IDENT                 { $$ = $1; }
    | qname '.' IDENT       { $$ = ar_printf(AR, "%s.%s", $1, $3); }
    ;

items
    : %empty
    | items item
    ;

item
    : "import" STRING ';'
        {
            import *im = ar_alloc(AR, sizeof *im);
            im->path = $2; im->loc = @2;
            import **t = &ps->f->imports;
            while (*t) t = &(*t)->next;
            *t = im;
        }
    | "enum" IDENT '{' enumvals '}' opt_semi
        {
            decl *d = new_decl(ps, D_ENUM, $2, @2);
            REVERSE(enumval, $4);
            d->values = $4;
            add_decl(ps, d);
        }
    | "message" IDENT '{' members '}' opt_semi
        {
            decl *d = new_decl(ps, D_MESSAGE, $2, @2);
            /* `...` is recorded as a field with no name */
            REVERSE(field, $4);
            field *fl = NULL, **tail = &fl;
            for (field *p = $4, *n; p; p = n) {
                n = p->next;
                p->next = NULL;
                if (p->name) {
                    *tail = p;
                    tail = &p->next;
                    continue;
                }
                if (d->open) {
                    diag_error(ps->c, ps->f, p->loc, "'...' appears more than once");
                    diag_note(ps->c, ps->f, d->open_loc, "first '...' is here");
                    continue;
                }
                d->open = true;
                d->open_loc = p->loc;
                for (field *q = n; q; q = q->next)
                    if (q->name) {
                        diag_error(ps->c, ps->f, p->loc, "'...' must be the last member of a message");
                        diag_note(ps->c, ps->f, q->loc, "'%s' follows it", q->name);
                        break;
                    }
            }
            d->fields = fl;
            add_decl(ps, d);
        }
    | "vr" IDENT '(' params ')' '{' vritems '}' opt_semi
        {
            decl *d = $7;
            d->name = $2; d->loc = @2; d->fields = $4;
            REVERSE(tlist, d->sends);
            REVERSE(tlist, d->receives);
            add_decl(ps, d);
        }
    | error ';'             { yyerrok; }
    | error '}'             { yyerrok; }
    ;

opt_semi: %empty | ';' ;

enumvals
    : %empty                { $$ = NULL; }
    | enumvals enumval      { $$ = $2 ? ($2->next = $1, $2) : $1; }
    ;

enumval
    : IDENT '=' INT ';'
        { $$ = ar_alloc(AR, sizeof *$$); $$->name = $1; $$->loc = @1;
          $$->mag = $3.u; $$->overflow = $3.overflow; }
    | IDENT '=' '-' INT ';'
        { $$ = ar_alloc(AR, sizeof *$$); $$->name = $1; $$->loc = @1;
          $$->mag = $4.u; $$->overflow = $4.overflow; $$->neg = true; }
    | error ';'             { $$ = NULL; yyerrok; }
    ;

members
    : %empty                { $$ = NULL; }
    | members member        { $$ = $2 ? ($2->next = $1, $2) : $1; }
    ;

member
    : type IDENT opt_array opt_number opt_default ';'
        {
            $$ = ar_alloc(AR, sizeof *$$);
            $$->type = $1; $$->name = $2; $$->loc = @2;
            $$->is_array = $3.is_array; $$->has_bound = $3.has_bound;
            $$->bound = $3.bound; $$->bound_loc = $3.loc;
            $$->has_number = $4.has; $$->number = $4.n; $$->num_loc = $4.loc;
            $$->def = $5;
        }
    | "..." opt_semi        { $$ = ar_alloc(AR, sizeof *$$); $$->loc = @1; }
    | error ';'             { $$ = NULL; yyerrok; }
    ;

type
    : TYPE                  { memset(&$$, 0, sizeof $$); $$.kind = (tkind)$1; $$.loc = @1; }
    | IDENT                 { memset(&$$, 0, sizeof $$); $$.kind = TY_NAMED; $$.name = $1; $$.loc = @1; }
    | qname '.' IDENT       { memset(&$$, 0, sizeof $$); $$.kind = TY_NAMED; $$.qual = $1;
                              $$.name = $3; $$.loc = @$; }
    ;

opt_array
    : %empty                { memset(&$$, 0, sizeof $$); }
    | '[' ']'               { memset(&$$, 0, sizeof $$); $$.is_array = true; $$.loc = @$; }
    | '[' INT ']'
        { memset(&$$, 0, sizeof $$); $$.is_array = $$.has_bound = true;
          $$.bound = $2.overflow ? UINT64_MAX : $2.u; $$.loc = @2; }
    ;

opt_number
    : %empty                { memset(&$$, 0, sizeof $$); }
    | '@' INT               { $$.has = true; $$.n = $2.overflow ? UINT64_MAX : $2.u; $$.loc = @$; }
    ;

opt_default
    : %empty                { $$ = NULL; }
    | '=' const             { $$ = $2; }
    ;

const
    : INT       { $$ = ar_alloc(AR, sizeof *$$); $$->kind = V_INT; $$->u = $1.u;
                  $$->overflow = $1.overflow; $$->loc = @$; }
    | '-' INT   { $$ = ar_alloc(AR, sizeof *$$); $$->kind = V_INT; $$->u = $2.u;
                  $$->overflow = $2.overflow; $$->neg = true; $$->loc = @$; }
    | FLOAT     { $$ = ar_alloc(AR, sizeof *$$); $$->kind = V_FLOAT; $$->d = $1; $$->loc = @$; }
    | '-' FLOAT { $$ = ar_alloc(AR, sizeof *$$); $$->kind = V_FLOAT; $$->d = $2;
                  $$->neg = true; $$->loc = @$; }
    | STRING    { $$ = ar_alloc(AR, sizeof *$$); $$->kind = V_STRING; $$->s = $1; $$->loc = @$; }
    | "true"    { $$ = ar_alloc(AR, sizeof *$$); $$->kind = V_BOOL; $$->u = 1; $$->loc = @$; }
    | "false"   { $$ = ar_alloc(AR, sizeof *$$); $$->kind = V_BOOL; $$->u = 0; $$->loc = @$; }
    | IDENT     { $$ = ar_alloc(AR, sizeof *$$); $$->kind = V_IDENT; $$->s = $1; $$->loc = @$; }
    | '-' IDENT { $$ = ar_alloc(AR, sizeof *$$); $$->kind = V_IDENT; $$->s = $2;
                  $$->neg = true; $$->loc = @$; }
    ;

params
    : %empty                { $$ = NULL; }
    | param_list            { $$ = $1; REVERSE(field, $$); }
    ;

param_list
    : param                 { $$ = $1; }
    | param_list ',' param  { $3->next = $1; $$ = $3; }
    ;

param
    : type IDENT opt_default
        { $$ = ar_alloc(AR, sizeof *$$); $$->type = $1; $$->name = $2; $$->loc = @2; $$->def = $3; }
    ;

vritems
    : %empty                { $$ = new_decl(ps, D_VR, NULL, @$); }
    | vritems "sends" tlist ';'
        { $$ = $1; for (tlist *t = $3, *n; t; t = n) { n = t->next; t->next = $$->sends; $$->sends = t; } }
    | vritems "receives" tlist ';'
        { $$ = $1; for (tlist *t = $3, *n; t; t = n) { n = t->next; t->next = $$->receives; $$->receives = t; } }
    | vritems error ';'     { $$ = $1; yyerrok; }
    ;

tlist
    : type                  { $$ = ar_alloc(AR, sizeof *$$); $$->t = $1; }
    | tlist ',' type
        { tlist *t = ar_alloc(AR, sizeof *t); t->t = $3;
          tlist **p = &$1; while (*p) p = &(*p)->next; *p = t; $$ = $1; }
    ;

%%

static decl *new_decl(struct pstate *ps, dkind k, const char *name, srcloc loc)
{
    decl *d = ar_alloc(AR, sizeof *d);
    d->kind = k; d->name = name; d->loc = loc; d->file = ps->f;
    return d;
}

static void add_decl(struct pstate *ps, decl *d)
{
    decl **t = &ps->f->decls;
    while (*t)
        t = &(*t)->next;
    *t = d;
}

static void yyerror(srcloc *loc, void *scanner, struct pstate *ps, const char *msg)
{
    (void)scanner;
    diag_error(ps->c, ps->f, *loc, "%s", msg);
}

/* A symbol's name for messages: keywords and punctuation quoted, categories not. */
static const char *sym_text(struct pstate *ps, yysymbol_kind_t s)
{
    const char *n = yysymbol_name(s);
    size_t len = strlen(n);
    if (len >= 2 && n[0] == '"')
        n = ar_strndup(AR, n + 1, len - 2);
    if (n[0] == '\'')
        return n;
    if (!strcmp(n, "identifier") || !strcmp(n, "string literal") || !strcmp(n, "integer")
        || !strcmp(n, "number") || !strcmp(n, "end of file") || !strcmp(n, "type name"))
        return n;
    return ar_printf(AR, "'%s'", n);
}

static int yyreport_syntax_error(const yypcontext_t *yyctx, void *scanner, struct pstate *ps)
{
    (void)scanner;
    yysymbol_kind_t expected[5];
    int n = yypcontext_expected_tokens(yyctx, expected, 5);
    yysymbol_kind_t got = yypcontext_token(yyctx);
    const srcloc *loc = yypcontext_location(yyctx);
    strbuf b = {0};
    if (n > 0 && n <= 4) {
        sb_puts(&b, "expected ");
        for (int i = 0; i < n; i++) {
            if (i)
                sb_puts(&b, i == n - 1 ? " or " : ", ");
            sb_puts(&b, sym_text(ps, expected[i]));
        }
        sb_puts(&b, got == YYSYMBOL_YYEOF ? " at " : " before ");
    } else {
        sb_puts(&b, "unexpected ");
    }
    if (got == YYSYMBOL_YYEOF) {
        sb_puts(&b, "end of file");
    } else {
        /* quote the offending text when it is on one line and short */
        const char *t = sym_text(ps, got);
        if (loc->first_line == loc->last_line && loc->last_column - loc->first_column <= 40
            && loc->last_column > loc->first_column && t[0] != '\'') {
            const char *p = diag_src_line(ps->f, loc->first_line);
            sb_printf(&b, "%s '%.*s'", t, loc->last_column - loc->first_column,
                      p ? p + loc->first_column - 1 : "");
        } else {
            sb_puts(&b, t);
        }
    }
    diag_error(ps->c, ps->f, *loc, "%s", b.data);
    sb_free(&b);
    return 0;
}

void parse_file(ctx *c, rvfile *f)
{
    struct pstate ps = { c, f };
    yyscan_t scanner;
    if (lexer_open(&scanner, c, f) != 0)
        return;
    yyparse(scanner, &ps);
    lexer_close(scanner);
}
