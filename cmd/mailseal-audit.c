/*
 * mailseal-audit - check the store's audit log (mailseal-audit(1)): every
 * line must follow from the one before by its SHA-256.  A program of its
 * own, apart from the tools that change the store: it only reads, so an
 * auditor or a cron job runs it without any power to change the store,
 * and mailseal-check can run the same library check (audit_verify).
 */
#include "audit.h"
#include "diag.h"
#include "ritual.h"
#include "store.h"

#include <stdio.h>

static const char usage[] =
"usage: mailseal-audit [--store DIR] verify\n"
"       mailseal-audit -h | --version\n";

static ms_err
cmd_verify(ms_admin *admin, const char **args)
{
	audit_report report;
	ms_err err;

	if (args[0] != NULL)
		ritual_usage_error("verify takes no operands");
	err = audit_verify(admin->store, &report);
	if (err != MS_OK)
		return err;
	if (report.bad_line != 0) {
		diag_error("audit log line %lu: %s", report.bad_line,
		    report.why);
		printf("broken at line %lu\n", report.bad_line);
		return MS_NOTFOUND;
	}
	/* the hash the next line will carry as prev= */
	printf("intact: %lu lines, last %s\n", report.lines,
	    report.last_hash);
	return MS_OK;
}

static const ms_command commands[] = {
	{ "verify", cmd_verify, false, "" },
	{ NULL, NULL, false, NULL }
};

int
main(int argc, char **argv)
{
	static const ms_admin_program prog = { { usage, NULL }, commands,
	    false, NULL, NULL, NULL };

	ritual_admin_main(argc, argv, &prog);
}
