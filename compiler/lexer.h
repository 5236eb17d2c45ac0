/* lexer.h — the reentrant flex scanner of lexer.l, as the parser sees it. */
#ifndef RIVERC_LEXER_H
#define RIVERC_LEXER_H

#include "ast.h"
#include "parser.h"

#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif

/* Scans f->src; lexical errors are reported through c.  0 on success. */
int lexer_open(yyscan_t *scanner, ctx *c, rvfile *f);
void lexer_close(yyscan_t scanner);
int yylex(YYSTYPE *lval, srcloc *lloc, yyscan_t scanner);

#endif
