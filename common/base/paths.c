/*
 * paths.c - the installation directories (paths.h).  The Makefile passes
 * them to this file alone and rebuilds it whenever they change; without
 * them the build fails rather than guess a directory.
 */
#include "paths.h"

#include <stdlib.h>

#if !defined(MAILSEAL_SHAREDIR) || !defined(MAILSEAL_STORE_DEFAULT)
#error "paths.c is built with -DMAILSEAL_SHAREDIR and -DMAILSEAL_STORE_DEFAULT"
#endif

const char *
paths_sharedir(void)
{
	const char *env = getenv("MAILSEAL_SHAREDIR");

	return env != NULL && *env != '\0' ? env : MAILSEAL_SHAREDIR;
}

const char *
paths_store_default(void)
{
	return MAILSEAL_STORE_DEFAULT;
}
