/*
 * test-settings-check.c - table-driven tests of settings_check_text
 * (common/store/settings.c): every problem of a settings file, each with
 * its line and a reason that says why, where the loader stops at the
 * first; and that the loader refuses what the check calls an error.
 */
#include "settings.h"
#include "diag.h"

#include "unit.h"

#define G SETTINGS_GLOBAL
#define D SETTINGS_DOMAIN
#define U SETTINGS_USER

typedef struct check_case {
	settings_level level;
	const char *text;
	size_t problems;	/* how many the check reports */
	size_t line;		/* the first problem's line */
	const char *says;	/* the first problem holds this text */
	bool loads;		/* settings_parse_text accepts the file */
} check_case;

static const check_case cases[] = {
	{ G, "encrypt-mode = mandatory\n# note\n", 0, 0, NULL, true },
	/* a misspelt key names the key it is likely to be */
	{ G, "sign = none\nencrypt-mod = mandatory\n", 1, 2,
	  "unknown key \"encrypt-mod\" (did you mean \"encrypt-mode\"?)",
	  false },
	{ G, "metods = smime\n", 1, 1, "(did you mean \"methods\"?)", false },
	/* nothing near: no guess */
	{ G, "colour = blue\n", 1, 1, "unknown key \"colour\": correct",
	  false },
	/* a '#' after a value: said as such */
	{ G, "methods = smime  # only smime\n", 1, 1,
	  "a '#' after a value is not a comment", false },
	{ G, "encrypt-mode = none\t# for now\n", 1, 1,
	  "a '#' after a value is not a comment", false },
	/* in a text value the '#' loads, but is worth a line */
	{ G, "encrypt-trigger-subject = [secure] # users type it\n", 1, 1,
	  "part of the value, not a comment", true },
	/* a bad value without '#': the values the key takes */
	{ G, "encrypt-mode = always\n", 1, 1,
	  "(expected: none allow mandatory)", false },
	/* every problem, not only the first */
	{ G, "encrypt-mode = always\nsign = x\nsyslog = maybe\n", 3, 1,
	  "\"encrypt-mode\"", false },
	/* the level */
	{ U, "syslog = no\n", 1, 1, "may only be set in global.conf", false },
	{ D, "sms-number = +15550100\n", 1, 1,
	  "may not be set at the domain level", false },
	/* a file the reader refuses is one problem for the whole file */
	{ G, "encrypt-mode mandatory\n", 1, 0, "not a settings file", false },
};

typedef struct collected {
	size_t count;
	size_t first_line;
	char *first;
} collected;

static void
collect(void *arg, size_t line, const char *problem)
{
	collected *c = arg;

	if (c->count++ == 0) {
		c->first_line = line;
		c->first = g_strdup(problem);
	}
}

int
main(void)
{
	diag_init("test-settings-check");
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const check_case *t = &cases[i];
		collected c = { 0, 0, NULL };
		size_t n = settings_check_text("t.conf", t->level, t->text,
		    strlen(t->text), collect, &c);
		bool loads = settings_parse_text(NULL, "t.conf", t->level,
		    t->text, strlen(t->text)) == MS_OK;

		unit_check(n == t->problems && c.count == t->problems,
		    "%s: %zu problems", unit_show(t->text),
		    t->problems);
		if (t->says != NULL) {
			if (!unit_check(c.first != NULL &&
			    c.first_line == t->line &&
			    strstr(c.first, t->says) != NULL,
			    "%s: line %zu says %s", unit_show(t->text),
			    t->line, t->says) && c.first != NULL)
				unit_note("said: %zu: %s", c.first_line,
				    c.first);
		}
		unit_check(loads == t->loads, "%s: %s",
		    unit_show(t->text),
		    t->loads ? "loads" : "does not load");
		g_free(c.first);
	}
	return unit_done();
}
