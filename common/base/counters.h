/*
 * counters.h - how much work one run of a program did: GMime parses of a
 * message, loads of the settings (global.conf read), loads of the trust
 * store and child processes started.  The modules that do the work count
 * it; nothing decides by these numbers.
 *
 * API: counter_add() where the work happens; counter_get() for tests;
 * counters_report_at_exit() (the main ritual calls it) appends one line
 * "PROGRAM parses=N settings=N trust=N processes=N" to the file named by
 * $MAILSEAL_COUNTS when the program exits, so a benchmark can read what a
 * filter run cost.  The line is one write(2) to a file opened with
 * O_APPEND: runs that end at once do not interleave their lines.
 */
#ifndef MAILSEAL_COUNTERS_H
#define MAILSEAL_COUNTERS_H

typedef enum counter {
	COUNTER_PARSE,		/* GMime ran over a message (msg.h) */
	COUNTER_SETTINGS,	/* global.conf read (settings.h) */
	COUNTER_TRUST,		/* the trust store loaded (trust.h) */
	COUNTER_PROCESS,	/* a child process started (run.h) */
	COUNTER_COUNT
} counter;

/* counter_add - one more of c */
void counter_add(counter c);

/* counter_get - how many of c this process counted */
unsigned long counter_get(counter c);

/* counters_report_at_exit - with $MAILSEAL_COUNTS set to an absolute
 * path, append this process's counts there when it exits */
void counters_report_at_exit(void);

#endif
