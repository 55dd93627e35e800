/*
 * test-postconf.c - table-driven tests of common/store/postconf.c: list
 * values and time values as Postfix writes them, and a configuration
 * directory read through postconf(1) when it is installed.
 */
#include "postconf.h"
#include "diag.h"

#include "unit.h"

typedef struct words_case {
	const char *value;
	const char *joined;	/* the words joined by '|' */
} words_case;

static const words_case words_cases[] = {
	{ "", "" },
	{ NULL, "" },
	{ "permit_mynetworks,reject", "permit_mynetworks|reject" },
	{ "permit_mynetworks, reject", "permit_mynetworks|reject" },
	{ " \tpermit_sasl_authenticated ,, reject\t",
	  "permit_sasl_authenticated|reject" },
	{ "127.0.0.0/8 [::1]/128", "127.0.0.0/8|[::1]/128" },
};

typedef struct seconds_case {
	const char *value;
	bool ok;
	unsigned long long seconds;
} seconds_case;

static const seconds_case seconds_cases[] = {
	{ "300", true, 300 },
	{ "300s", true, 300 },
	{ "5m", true, 300 },
	{ "2h", true, 7200 },
	{ "1d", true, 86400 },
	{ "1w", true, 604800 },
	{ "", false, 0 },
	{ "s", false, 0 },
	{ "-5s", false, 0 },
	{ "5 m", false, 0 },
	{ "5x", false, 0 },
	{ "99999999999999999999w", false, 0 },
};

static void
check_words(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(words_cases); i++) {
		char **words = postconf_words(words_cases[i].value);
		char *joined = g_strjoinv("|", words);

		unit_check(strcmp(joined, words_cases[i].joined) == 0,
		    "postconf_words %s",
		    words_cases[i].value ? unit_show(words_cases[i].value) :
		    "NULL");
		g_free(joined);
		g_strfreev(words);
	}
}

static void
check_seconds(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(seconds_cases); i++) {
		const seconds_case *t = &seconds_cases[i];
		unsigned long long got = 0;
		bool ok = postconf_seconds(t->value, &got);

		unit_check(ok == t->ok && (!ok || got == t->seconds),
		    "postconf_seconds %s", unit_show(t->value));
	}
}

/* write_text - a test file; a test that cannot write one cannot run */
static void
write_text(const char *path, const char *text)
{
	if (!unit_write_file(path, text, strlen(text)))
		unit_check(false, "write %s", path);
}

/* check_read - main.cf values, -o overrides over them, services in
 * master.cf order, and an -o value with commas kept as one word */
static void
check_read(void)
{
	char *dir, *path;
	ms_postconf *pc = NULL;
	const postconf_service *s;
	char *program = g_find_program_in_path("postconf");

	if (program == NULL && !g_file_test("/usr/sbin/postconf",
	    G_FILE_TEST_IS_EXECUTABLE)) {
		unit_check(true, "postconf_read: no postconf here (skipped)");
		return;
	}
	g_free(program);
	dir = unit_tmpdir("postconf");
	path = g_build_filename(dir, "main.cf", NULL);
	write_text(path, "compatibility_level = 3.6\n"
	    "message_size_limit = 1000\n");
	g_free(path);
	path = g_build_filename(dir, "master.cf", NULL);
	write_text(path,
	    "submission inet n - y - - smtpd\n"
	    "  -o message_size_limit=500\n"
	    "  -o receive_override_options=no_milters,no_address_mappings\n"
	    "smtp inet n - y - - smtpd\n");
	g_free(path);
	unit_check(postconf_read(dir, &pc) == MS_OK && pc != NULL,
	    "postconf_read reads a configuration directory");
	if (pc != NULL) {
		unit_check(postconf_services(pc) == 2 &&
		    strcmp(postconf_service_at(pc, 0)->name,
		    "submission") == 0, "services in master.cf order");
		s = postconf_find(pc, "submission", "inet");
		unit_check(s != NULL && strcmp(postconf_param(pc, s,
		    "message_size_limit"), "500") == 0,
		    "an -o override wins over main.cf");
		unit_check(strcmp(postconf_param(pc, postconf_find(pc,
		    "smtp", "inet"), "message_size_limit"), "1000") == 0,
		    "main.cf's value without an override");
		unit_check(s != NULL && g_strv_contains(
		    (const char *const *)s->command,
		    "receive_override_options=no_milters,no_address_mappings"),
		    "an -o value with commas is one word of the command");
		unit_check(postconf_param(pc, NULL, "no_such_parameter_x") ==
		    NULL, "an unknown parameter is NULL");
	}
	postconf_free(pc);
	unit_check(postconf_read("/nonexistent/postfix", &pc) == MS_TEMP &&
	    pc == NULL, "a directory postconf cannot read is MS_TEMP");
	unit_rmtree(dir);
	g_free(dir);
}

int
main(void)
{
	diag_init("test-postconf");
	check_words();
	check_seconds();
	check_read();
	return unit_done();
}
