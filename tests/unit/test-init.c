/*
 * test-init.c - tests of common/store/init.c: the default global.conf
 * is all comments and every "# key = value" in it is the key's default
 * (so the file tells the truth), and the store_init_* functions make what
 * is missing and keep what is there.
 */
#include "init.h"
#include "diag.h"
#include "settings.h"

#include <sys/stat.h>

#include "unit.h"

/* check_settings_text - the file loads and each example is the default */
static void
check_settings_text(void)
{
	const char *text = store_init_settings;
	ms_settings *defaults = settings_new_defaults();
	char **lines = g_strsplit(text, "\n", -1);
	unsigned examples = 0;

	unit_check(settings_parse_text(NULL, "global.conf", SETTINGS_GLOBAL,
	    text, strlen(text)) == MS_OK, "the default global.conf parses");
	for (int i = 0; lines[i] != NULL; i++) {
		const char *line = lines[i];
		char *key, *equals;
		ms_settings *s;

		if (*line == '\0')
			continue;
		if (!unit_check(line[0] == '#', "line %d is a comment: %s",
		    i + 1, unit_show(line)))
			continue;
		/* "# key = value": an example of a key */
		if (line[1] != ' ' || !g_ascii_islower(line[2]) ||
		    (equals = strstr(line, " = ")) == NULL ||
		    strchr(line + 2, ' ') != equals)
			continue;
		examples++;
		key = g_strndup(line + 2, (size_t)(equals - line - 2));
		s = settings_new_defaults();
		if (unit_check(settings_parse_text(s, "global.conf",
		    SETTINGS_GLOBAL, line + 2, strlen(line + 2)) == MS_OK,
		    "%s uncommented parses", key))
			unit_check(unit_streq(settings_get(s, key),
			    settings_get(defaults, key)) &&
			    strcmp(settings_origin(s, key), "default") != 0,
			    "%s is shown with its default", key);
		settings_free(s);
		g_free(key);
	}
	unit_check(examples >= 20, "the file shows %u keys", examples);
	g_strfreev(lines);
	settings_free(defaults);
}

/* file_text - the whole content of path, or NULL */
static char *
file_text(const char *path, gsize *len)
{
	char *text = NULL;

	if (!g_file_get_contents(path, &text, len, NULL))
		return NULL;
	return text;
}

static void
check_secret(ms_store *store, const char *root)
{
	char *path = g_build_filename(root, "pdf", "random.key", NULL);
	char *first, *second;
	gsize len1 = 0, len2 = 0;
	struct stat st;
	bool made = false;

	unit_check(store_init_dir(store, "pdf", &made) == MS_OK && made,
	    "pdf/ made");
	unit_check(store_init_dir(store, "pdf", &made) == MS_OK && !made,
	    "pdf/ kept");
	unit_check(store_init_secret(store, "pdf", "random.key", 32, &made) ==
	    MS_OK && made, "a secret made");
	unit_check(stat(path, &st) == 0 && st.st_size == 32 &&
	    (st.st_mode & 0777) == 0600, "the secret: 32 octets, mode 0600");
	first = file_text(path, &len1);
	unit_check(store_init_secret(store, "pdf", "random.key", 32, &made) ==
	    MS_OK && !made, "a second run keeps the secret");
	second = file_text(path, &len2);
	unit_check(first != NULL && second != NULL && len1 == len2 &&
	    memcmp(first, second, len1) == 0, "the secret is unchanged");
	/* a secret of another size is the administrator's: kept too */
	g_free(path);
	path = g_build_filename(root, "pdf", "reply.key", NULL);
	unit_check(unit_write_file(path, "short", 5), "a short reply.key");
	unit_check(store_init_secret(store, "pdf", "reply.key", 32, &made) ==
	    MS_OK && !made, "an existing secret of another size is kept");
	g_free(first);
	g_free(second);
	g_free(path);
}

static void
check_dirs_and_files(ms_store *store, const char *root)
{
	char *link = g_build_filename(root, "spool", NULL);
	char *conf = g_build_filename(root, "settings", "global.conf", NULL);
	char *text;
	bool made = true;

	unit_check(symlink("/tmp", link) == 0, "a link where spool/ goes");
	unit_check(store_init_dir(store, "spool", &made) == MS_CONFIG &&
	    !made, "a link is not taken for a directory");
	unit_check(unit_write_file(conf, "sign = smime\n", 13),
	    "a global.conf of the administrator's");
	unit_check(store_init_file(store, "settings", "global.conf",
	    store_init_settings, &made) == MS_OK && !made,
	    "existing settings kept");
	text = file_text(conf, NULL);
	unit_check(unit_streq(text, "sign = smime\n"),
	    "the settings file is unchanged");
	g_free(text);
	g_free(conf);
	g_free(link);
}

static void
check_root(const char *root)
{
	char *fresh = g_build_filename(root, "new", NULL);
	struct stat st;
	bool made = false;

	unit_check(store_init_root(fresh, geteuid(), getegid(), &made) ==
	    MS_OK && made, "a new store directory");
	unit_check(stat(fresh, &st) == 0 && (st.st_mode & 0777) == 0700 &&
	    st.st_uid == geteuid(), "the new directory: 0700, ours");
	unit_check(store_init_root(fresh, geteuid(), getegid(), &made) ==
	    MS_OK && !made, "our existing directory is kept");
	unit_check(store_init_root(fresh, geteuid() + 1, getegid(), &made) ==
	    MS_CONFIG && !made, "a directory of another user is refused");
	g_free(fresh);
}

int
main(void)
{
	ms_store *store = NULL;
	char *root;

	diag_init("test-init");
	check_settings_text();
	root = unit_tmpdir("init");
	if (!unit_check(store_open(root, true, &store) == MS_OK &&
	    store_lock(store, 1000) == MS_OK, "a scratch store"))
		return unit_done();
	check_secret(store, root);
	check_dirs_and_files(store, root);
	check_root(root);
	store_close(store);
	unit_rmtree(root);
	g_free(root);
	return unit_done();
}
