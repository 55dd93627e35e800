/*
 * fuzz.h - what the libFuzzer targets share: require() turns a broken
 * invariant into an abort, which libFuzzer reports as a finding.
 */
#ifndef MAILSEAL_FUZZ_H
#define MAILSEAL_FUZZ_H

#include <stdlib.h>

/* require - abort unless cond holds */
static inline void
require(int cond)
{
	if (!cond)
		abort();
}

#endif
