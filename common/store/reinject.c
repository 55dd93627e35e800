/*
 * reinject.c - a finished message back to the mail system (reinject.h).
 */
#include "reinject.h"
#include "diag.h"
#include "run.h"
#include "smtp.h"

/* command - CMD [-R hdrs] -f SENDER -- RCPT... < fd */
static ms_err
command(const ms_settings *settings, const char *sender, GPtrArray *rcpts,
    int fd, unsigned flags)
{
	char **cmd = run_reinject_command(settings);
	GPtrArray *argv;
	GString *errtext = NULL;
	int status = 0;
	ms_err err;

	if (cmd == NULL)
		return MS_CONFIG;
	argv = g_ptr_array_new();
	for (size_t i = 0; cmd[i] != NULL; i++)
		g_ptr_array_add(argv, cmd[i]);
	if (flags & REINJECT_HDRS_ONLY) {
		g_ptr_array_add(argv, "-R");
		g_ptr_array_add(argv, "hdrs");
	}
	g_ptr_array_add(argv, "-f");
	g_ptr_array_add(argv, (gpointer)sender);
	g_ptr_array_add(argv, "--");
	for (guint i = 0; i < rcpts->len; i++)
		g_ptr_array_add(argv, g_ptr_array_index(rcpts, i));
	g_ptr_array_add(argv, NULL);
	if (flags & REINJECT_TIED)
		err = run_program_tied((char *const *)argv->pdata, fd, -1,
		    &status, &errtext);
	else
		err = run_program((char *const *)argv->pdata, fd, -1,
		    &status, &errtext);
	if (err == MS_OK && run_status_err(status) != MS_OK) {
		diag_error("reinjection failed (status %d)", status);
		err = MS_TEMP;
	}
	if (errtext != NULL) {
		if (err != MS_OK && (flags & REINJECT_RELAY_ERRORS))
			run_relay_errtext(errtext);
		g_string_free(errtext, TRUE);
	}
	g_ptr_array_free(argv, TRUE);
	g_strfreev(cmd);
	return err;
}

ms_err
reinject_send(const ms_settings *settings, const char *sender,
    GPtrArray *rcpts, int fd, unsigned flags)
{
	const char *smtp = settings_get(settings, "reinject-smtp");

	if (smtp != NULL && *smtp != '\0')
		return smtp_send(smtp, sender, rcpts, fd,
		    (flags & REINJECT_HDRS_ONLY) != 0, REINJECT_SMTP_TIMEOUT);
	return command(settings, sender, rcpts, fd, flags);
}
