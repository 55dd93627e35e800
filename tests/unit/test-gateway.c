/*
 * test-gateway.c - the gateway's library calls: the one mapping of a
 * child's exit status (run.h), per-address settings over global ones
 * loaded once (settings_load_under), and the DLP scan as a call with a
 * typed verdict (gateway.h), with the scan skipped for a message
 * released from quarantine, and the work counters (counters.h) that show
 * what a step loaded.
 */
#include "counters.h"
#include "gateway.h"
#include "run.h"
#include "settings.h"

#include "unit.h"

typedef struct status_case {
	int status;
	ms_err err;
} status_case;

static const status_case status_cases[] = {
	{ 0, MS_OK },
	{ 64, MS_INTERNAL },	/* we called it wrong */
	{ 65, MS_DATA },
	{ 69, MS_POLICY },
	{ 75, MS_TEMP },
	{ 71, MS_TEMP },
	{ 1, MS_TEMP },		/* never a reason to pass mail on */
	{ 70, MS_TEMP },
	{ 128 + 9, MS_TEMP },	/* killed */
	{ -1, MS_TEMP },
};

static void
check_status_table(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(status_cases); i++) {
		const status_case *c = &status_cases[i];
		ms_err got = run_status_err(c->status);

		unit_check(got == c->err, "run_status_err(%d) = %s (got %s)",
		    c->status, ms_err_name(c->err), ms_err_name(got));
	}
}

static char *root;
static ms_store *store;

/* the scratch store's files: settings at every level, two policies */
static const struct {
	const char *path;
	const char *content;
} store_files[] = {
	{ "settings/global.conf",
	  "syslog = no\nencrypt-mode = allow\ndlp-policies = zebra\n" },
	{ "settings/domain/example.test.conf", "sign = smime\n" },
	{ "settings/domain/*.example.test.conf",
	  "encrypt-mode = mandatory\nmethods = pgp\n" },
	{ "settings/user/bob@example.test.conf",
	  "sign = none\ndlp-policies = zebra-block\n" },
	{ "settings/user/dave@other.test.conf", "dlp = no\n" },
	{ "policies/zebra.policy",
	  "rule zebra\n when keyword zebra\n action warn\n" },
	{ "policies/zebra-block.policy",
	  "rule zebra-block\n when keyword zebra\n action block\n" },
};

typedef struct under_case {
	const char *address;
	const char *key;
} under_case;

static const under_case under_cases[] = {
	{ "alice@example.test", "sign" },
	{ "alice@example.test", "encrypt-mode" },
	{ "alice@example.test", "dlp-policies" },
	{ "bob@example.test", "sign" },
	{ "bob@example.test", "encrypt-mode" },
	{ "carol@sub.example.test", "encrypt-mode" },
	{ "carol@sub.example.test", "methods" },
	{ "dave@other.test", "encrypt-mode" },
	{ "dave@other.test", "dlp" },
};

/* check_under - settings_load_under gives what settings_load gives, and
 * reads global.conf no more */
static void
check_under(const ms_settings *global)
{
	for (size_t i = 0; i < G_N_ELEMENTS(under_cases); i++) {
		const under_case *c = &under_cases[i];
		ms_settings *fresh = NULL, *under = NULL;
		unsigned long before;
		ms_addr addr;
		const char *why;
		bool same;

		if (!unit_check(addr_parse_str(c->address, &addr, &why) ==
		    MS_OK, "address %s", c->address))
			continue;
		before = counter_get(COUNTER_SETTINGS);
		same = settings_load_under(global, store, &addr, &under) ==
		    MS_OK;
		unit_check(counter_get(COUNTER_SETTINGS) == before,
		    "settings_load_under %s reads no global.conf", c->address);
		same = same && settings_load(store, &addr, &fresh) == MS_OK &&
		    strcmp(settings_get(fresh, c->key),
		    settings_get(under, c->key)) == 0 &&
		    strcmp(settings_origin(fresh, c->key),
		    settings_origin(under, c->key)) == 0;
		unit_check(same, "settings_load_under %s: %s = %s as "
		    "settings_load has it", c->address, c->key,
		    under != NULL ? settings_get(under, c->key) : "-");
		settings_free(fresh);
		settings_free(under);
		addr_clear(&addr);
	}
}

static const char card_message[] =
    "From: alice@example.test\n"
    "To: bob@example.test\n"
    "Subject: plans\n"
    "\n"
    "The budget of project zebra is attached.\n";

/* check_dlp - the verdict as a value; released mail skips the scan */
static void
check_dlp(const ms_settings *global)
{
	static const char *const rcpts[] = { "bob@example.test", NULL };
	gw_context ctx = { 0 };
	gw_dlp_verdict v;
	ms_message *msg = NULL;
	msg_problem problem;
	unsigned long settings_before, parses_before;
	char *field;
	ms_err err;

	if (!unit_check(msg_parse_buffer(card_message, strlen(card_message),
	    &msg, &problem) == MS_OK, "the test message parses"))
		return;
	ctx.store = store;
	ctx.settings = global;
	ctx.sender = "alice@example.test";
	ctx.recipients = rcpts;
	ctx.direction = GW_OUTGOING;

	settings_before = counter_get(COUNTER_SETTINGS);
	parses_before = counter_get(COUNTER_PARSE);
	err = gw_dlp_scan(&ctx, msg, &v);
	unit_check(err == MS_OK && v.action == POLICY_WARN &&
	    unit_streq(v.rules, "zebra") && !v.skipped,
	    "a fired warn rule: the verdict warn, rules=zebra (got %s %s)",
	    ms_err_name(err), policy_action_name(v.action));
	field = gw_dlp_field(&v);
	unit_check(unit_streq(field, "warn; rules=zebra"),
	    "its X-Mailseal-DLP value: %s", unit_show(field));
	g_free(field);
	unit_check(counter_get(COUNTER_SETTINGS) == settings_before &&
	    counter_get(COUNTER_PARSE) == parses_before,
	    "the scan of a parsed message loads no settings and parses "
	    "nothing again");
	gw_dlp_verdict_clear(&v);

	ctx.sender = "bob@example.test";	/* his policy blocks */
	err = gw_dlp_scan(&ctx, msg, &v);
	unit_check(err == MS_POLICY && v.action == POLICY_BLOCK &&
	    unit_streq(v.block_rule, "zebra-block"),
	    "a fired block rule: a refusal naming the rule (got %s)",
	    ms_err_name(err));
	gw_dlp_verdict_clear(&v);

	/* released from quarantine: the same path without DLP */
	ctx.skip_dlp = true;
	err = gw_dlp_scan(&ctx, msg, &v);
	unit_check(err == MS_OK && v.action == POLICY_PASS && v.skipped,
	    "skip_dlp: the verdict pass without a scan (got %s %s)",
	    ms_err_name(err), policy_action_name(v.action));
	field = gw_dlp_field(&v);
	unit_check(unit_streq(field, "pass; scan=released"),
	    "skip_dlp: the field says so: %s", unit_show(field));
	g_free(field);
	gw_dlp_verdict_clear(&v);
	msg_free(msg);
}

int
main(void)
{
	ms_settings *global = NULL;
	bool ok;

	msg_library_init();
	check_status_table();
	root = unit_tmpdir("gateway");
	if (!unit_check(store_open(root, true, &store) == MS_OK,
	    "store_open creates a scratch store"))
		return unit_done();
	ok = true;
	for (size_t i = 0; i < G_N_ELEMENTS(store_files); i++) {
		char *path = g_build_filename(root, store_files[i].path, NULL);

		ok = ok && unit_write_file(path, store_files[i].content,
		    strlen(store_files[i].content));
		g_free(path);
	}
	if (unit_check(ok, "the scratch store's files") &&
	    unit_check(settings_load(store, NULL, &global) == MS_OK,
	    "the global settings load")) {
		check_under(global);
		check_dlp(global);
	}
	settings_free(global);
	store_close(store);
	unit_rmtree(root);
	g_free(root);
	return unit_done();
}
