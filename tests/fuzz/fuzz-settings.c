/*
 * fuzz-settings.c - libFuzzer target for the settings file parser
 * (common/settings.c, settings_parse_text).
 *
 * The first input byte picks the level (global, wildcard, domain, user),
 * the rest is the file text.  Each input is parsed twice, without and with
 * a settings object, and the verdict must agree; when accepted, every
 * known key must still read back as a value its type allows (a number
 * parses, a list splits, a bool is yes or no).  settings_parse_text
 * reports errors through diag_error on stderr; run with -close_fd_mask=2
 * (tests/fuzz/run does) to keep that noise out of the fuzzer's log.
 */
#include "fuzz.h"
#include "settings.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = {
	"encrypt-mode", "methods", "sign", "syslog", "limit-message-size",
	"limit-header-section", "limit-header-field", "limit-mime-depth",
	"limit-mime-parts",
};


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	settings_level level;
	ms_settings *settings;
	ms_err bare, applied;
	const char *text;

	if (size == 0)
		return 0;
	level = (settings_level)(data[0] % 4);
	text = (const char *)data + 1;
	size--;

	bare = settings_parse_text(NULL, "fuzz.conf", level, text, size);
	settings = settings_new_defaults();
	applied = settings_parse_text(settings, "fuzz.conf", level, text,
	    size);
	require(bare == applied);
	require(bare == MS_OK || bare == MS_CONFIG);
	if (applied == MS_OK) {
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			const char *value = settings_get(settings, keys[i]);
			const char *origin = settings_origin(settings, keys[i]);

			require(value != NULL && origin != NULL);
			require(strchr(value, '\n') == NULL);
		}
		require(settings_get_number(settings, "limit-mime-depth") >= 1);
		require(settings_get_number(settings, "limit-mime-depth") <=
		    0xffffffffULL);
		require(settings_get_number(settings, "limit-mime-parts") <=
		    0xffffffffULL);
		require(settings_get_number(settings, "limit-message-size") >=
		    1);
		(void)settings_get_bool(settings, "syslog");
		g_strfreev(settings_get_list(settings, "methods"));
	}
	settings_free(settings);
	return 0;
}
