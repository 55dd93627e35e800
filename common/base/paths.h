/*
 * paths.h - the directories fixed when the programs are built for an
 * installation (make PREFIX=... or make install PREFIX=...).
 *
 * API: paths_sharedir() (the shipped DLP policies and notice templates;
 * $MAILSEAL_SHAREDIR replaces it), paths_store_default() (the store when
 * neither --store nor $MAILSEAL_STORE names one).  Only paths.c sees the
 * Makefile's values, so a different PREFIX rebuilds one object and
 * relinks; no other object can keep an older path.
 */
#ifndef MAILSEAL_PATHS_H
#define MAILSEAL_PATHS_H

/* paths_sharedir - $MAILSEAL_SHAREDIR when set, else the installed
 * share directory */
const char *paths_sharedir(void);

/* paths_store_default - the store directory fixed at build time */
const char *paths_store_default(void);

#endif
