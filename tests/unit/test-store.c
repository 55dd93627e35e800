/*
 * test-store.c - tests of the flat-file store (common/store.c) against
 * security.md section 9: layout and permissions, atomic writes under the
 * writers' lock, capped reads that refuse symlinks, self-validating
 * records that read as "unavailable" when damaged, names that can never
 * leave their directory, and the bounded lock wait.
 * store_write without the lock ends the process by design (diag_fatal),
 * so that path is not exercised here.
 */
#include "store.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "unit.h"

static char *root;

static char *
path_of(const char *rel)
{
	return g_build_filename(root, rel, NULL);
}

static mode_t
mode_of(const char *rel)
{
	struct stat st;
	char *path = path_of(rel);
	mode_t mode = (mode_t)-1;

	if (lstat(path, &st) == 0)
		mode = st.st_mode;
	g_free(path);
	return mode;
}

static const char *const layout[] = {
	"settings", "settings/domain", "settings/user", "certs", "roots",
	"keys", "crls", "index", "index/addr", "index/subject", "ca", "tmp",
};

static void
check_open(void)
{
	ms_store *store = NULL;
	char *missing, *loose;
	ms_err err;

	err = store_open(root, true, &store);
	if (!unit_check(err == MS_OK && store != NULL,
	    "store_open with create succeeds"))
		return;
	for (size_t i = 0; i < G_N_ELEMENTS(layout); i++) {
		mode_t m = mode_of(layout[i]);

		unit_check(m != (mode_t)-1 && S_ISDIR(m) &&
		    (m & 07777) == 0700, "layout: %s/ exists with mode 0700",
		    layout[i]);
	}
	unit_check(strcmp(store_root(store), root) == 0 ||
	    g_str_has_suffix(root, store_root(store)),
	    "store_root is the directory");
	store_close(store);

	/* opening again, with or without create, finds the same layout */
	err = store_open(root, true, &store);
	unit_check(err == MS_OK, "store_open with create is idempotent");
	store_close(store);
	err = store_open(root, false, &store);
	unit_check(err == MS_OK, "store_open without create");
	store_close(store);

	missing = g_build_filename(root, "no-such-store", NULL);
	err = store_open(missing, false, &store);
	unit_check(err == MS_CONFIG && store == NULL,
	    "store_open of a missing directory: MS_CONFIG");
	g_free(missing);
	err = store_open("", false, &store);
	unit_check(err == MS_CONFIG, "store_open of \"\": MS_CONFIG");

	/* a group-writable store is refused (STORE-5) */
	loose = g_build_filename(root, "loose", NULL);
	if (mkdir(loose, 0700) == 0 && chmod(loose, 0770) == 0) {
		err = store_open(loose, false, &store);
		unit_check(err == MS_CONFIG,
		    "store_open of a group-writable directory: MS_CONFIG");
		chmod(loose, 0700);
		/* and so is a group-writable subdirectory at create */
		err = store_open(loose, true, &store);
		store_close(store);
		{
			char *certs = g_build_filename(loose, "certs", NULL);

			chmod(certs, 0777);
			err = store_open(loose, true, &store);
			unit_check(err == MS_CONFIG && store == NULL,
			    "store_open create with a world-writable "
			    "subdirectory: MS_CONFIG");
			chmod(certs, 0700);
			g_free(certs);
		}
	} else
		unit_check(false, "make a group-writable directory");
	g_free(loose);
	/* a symlink as the store is resolved, a file is refused */
	{
		char *file = g_build_filename(root, "plain-file", NULL);

		unit_write_file(file, "x", 1);
		err = store_open(file, false, &store);
		unit_check(err == MS_CONFIG,
		    "store_open of a regular file: MS_CONFIG");
		g_free(file);
	}
}

typedef struct name_case {
	const char *name;
	bool ok;
} name_case;

static const name_case name_cases[] = {
	{ "global.conf", true },
	{ "*.example.com.conf", true },
	{ "bob@example.com.conf", true },
	{ "0123456789abcdef.pem", true },
	{ "..x", true },
	{ "x..", true },
	{ "", false },
	{ ".", false },
	{ "..", false },
	{ "a/b", false },
	{ "/", false },
	{ "/etc", false },
	{ "../x", false },
	{ "x/..", false },
	{ "a b", false },
	{ "a\tb", false },
	{ "a\nb", false },
	{ "a\rb", false },
	{ "a\x01" "b", false },
	{ "a\x1b[31m", false },
	{ "a\x7f", false },
	{ "caf\xc3\xa9", false },
	{ "\xff", false },
};

static void
check_names(void)
{
	char n255[256], n256[257];

	for (size_t i = 0; i < G_N_ELEMENTS(name_cases); i++)
		unit_check(store_name_ok(name_cases[i].name) ==
		    name_cases[i].ok, "store_name_ok %s is %s",
		    unit_show(name_cases[i].name),
		    name_cases[i].ok ? "true" : "false");
	unit_check(!store_name_ok(NULL), "store_name_ok NULL is false");
	memset(n255, 'n', 255);
	n255[255] = '\0';
	memset(n256, 'n', 256);
	n256[256] = '\0';
	unit_check(store_name_ok(n255), "store_name_ok: 255 octets");
	unit_check(!store_name_ok(n256), "store_name_ok: not 256 octets");
}

static void
check_hash_name(void)
{
	char *h = store_hash_name("abc");

	unit_check(strcmp(h, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad") == 0 && store_name_ok(h),
	    "store_hash_name is hex SHA-256 (FIPS 180-2 vector \"abc\")");
	g_free(h);
	h = store_hash_name("");
	unit_check(strlen(h) == 64, "store_hash_name of \"\" is 64 hex");
	g_free(h);
}

/* no_temp_files - no ".tmp.*" left behind in dir */
static bool
no_temp_files(const char *rel)
{
	char *dir = path_of(rel);
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;
	bool clean = d != NULL;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL)
		if (g_str_has_prefix(name, ".tmp."))
			clean = false;
	if (d != NULL)
		g_dir_close(d);
	g_free(dir);
	return clean;
}

static void
check_write_read(void)
{
	ms_store *store = NULL;
	GByteArray *data = NULL;
	GPtrArray *names = NULL;
	static const char body[] = "hello, store\n";
	char binary[300];
	ms_err err;

	if (store_open(root, false, &store) != MS_OK)
		return;
	err = store_lock(store, 1000);
	unit_check(err == MS_OK, "store_lock on a free store");
	unit_check(store_lock(store, 0) == MS_OK,
	    "store_lock again while held is a no-op");
	unit_check((mode_of("lock") & 07777) == 0600,
	    "the lock file is 0600");

	err = store_write(store, "certs", "a.pem", body, strlen(body), 0600);
	unit_check(err == MS_OK, "store_write certs/a.pem");
	unit_check((mode_of("certs/a.pem") & 07777) == 0600 &&
	    S_ISREG(mode_of("certs/a.pem")), "certs/a.pem has mode 0600");
	err = store_write(store, "roots", "r.pem", body, strlen(body), 0644);
	unit_check(err == MS_OK && (mode_of("roots/r.pem") & 07777) == 0644,
	    "store_write with mode 0644 honours it despite umask");
	err = store_read(store, "certs", "a.pem", 1024, &data);
	unit_check(err == MS_OK && data != NULL && data->len == strlen(body) &&
	    memcmp(data->data, body, data->len) == 0,
	    "store_read returns what was written");
	if (data)
		g_byte_array_free(data, TRUE);

	/* binary content, NUL bytes included, round-trips exactly */
	for (size_t i = 0; i < sizeof(binary); i++)
		binary[i] = (char)(i * 7);
	err = store_write(store, "keys", "k.key", binary, sizeof(binary),
	    0600);
	err = err == MS_OK ? store_read(store, "keys", "k.key", 300, &data) :
	    err;
	unit_check(err == MS_OK && data->len == sizeof(binary) &&
	    memcmp(data->data, binary, sizeof(binary)) == 0,
	    "binary data round-trips, cap equal to the size");
	if (err == MS_OK)
		g_byte_array_free(data, TRUE);
	data = NULL;

	/* replacing keeps one file, the new content, no temp files */
	err = store_write(store, "certs", "a.pem", "new\n", 4, 0600);
	err = err == MS_OK ? store_read(store, "certs", "a.pem", 10, &data) :
	    err;
	unit_check(err == MS_OK && data->len == 4 &&
	    memcmp(data->data, "new\n", 4) == 0,
	    "store_write replaces a file atomically");
	if (err == MS_OK)
		g_byte_array_free(data, TRUE);
	data = NULL;
	unit_check(no_temp_files("certs") && no_temp_files("keys") &&
	    no_temp_files("roots"), "no temporary files are left behind");

	/* empty file */
	err = store_write(store, "tmp", "empty", "", 0, 0600);
	err = err == MS_OK ? store_read(store, "tmp", "empty", 0, &data) : err;
	unit_check(err == MS_OK && data != NULL && data->len == 0,
	    "an empty file reads as zero octets, cap 0");
	if (err == MS_OK)
		g_byte_array_free(data, TRUE);
	data = NULL;

	/* the size cap */
	err = store_read(store, "keys", "k.key", 299, &data);
	unit_check(err == MS_DATA && data == NULL,
	    "store_read over the cap: MS_DATA");
	err = store_read(store, "certs", "missing.pem", 1024, &data);
	unit_check(err == MS_NOTFOUND && data == NULL,
	    "store_read of a missing file: MS_NOTFOUND");
	err = store_read(store, "no-such-dir", "x", 1024, &data);
	unit_check(err == MS_NOTFOUND, "store_read in a missing directory: "
	    "MS_NOTFOUND");

	/* symlinks are never followed (O_NOFOLLOW), directories refused */
	{
		char *link_path = path_of("certs/link.pem");
		char *dir_link = path_of("certs/dirlink.pem");

		if (symlink("a.pem", link_path) == 0) {
			err = store_read(store, "certs", "link.pem", 1024,
			    &data);
			unit_check(err != MS_OK && err != MS_NOTFOUND &&
			    data == NULL,
			    "store_read refuses a symlink (%s)",
			    ms_err_name(err));
			unit_check(!store_exists(store, "certs", "link.pem"),
			    "store_exists is false for a symlink");
		} else
			unit_check(false, "make a symlink");
		if (symlink("/etc/passwd", dir_link) == 0) {
			err = store_read(store, "certs", "dirlink.pem", 1 << 20,
			    &data);
			unit_check(err != MS_OK && data == NULL,
			    "store_read refuses a symlink out of the store");
		}
		err = store_read(store, NULL, "certs", 1024, &data);
		unit_check(err != MS_OK && err != MS_NOTFOUND && data == NULL,
		    "store_read refuses a directory");
		g_free(link_path);
		g_free(dir_link);
	}

	unit_check(store_exists(store, "certs", "a.pem") &&
	    !store_exists(store, "certs", "nope.pem"), "store_exists");
	err = store_list(store, "certs", &names);
	unit_check(err == MS_OK && names->len >= 1 &&
	    strcmp(g_ptr_array_index(names, 0), "a.pem") == 0,
	    "store_list finds a.pem first (sorted)");
	if (names)
		g_ptr_array_free(names, TRUE);
	err = store_list(store, "no-such-dir", &names);
	unit_check(err == MS_OK && names->len == 0,
	    "store_list of a missing directory is empty");
	g_ptr_array_free(names, TRUE);

	err = store_remove(store, "roots", "r.pem");
	unit_check(err == MS_OK && !store_exists(store, "roots", "r.pem"),
	    "store_remove");
	err = store_remove(store, "roots", "r.pem");
	unit_check(err == MS_NOTFOUND, "store_remove again: MS_NOTFOUND");

	{
		char *p = store_path(store, "certs", "a.pem");
		char *want = g_build_filename(store_root(store), "certs",
		    "a.pem", NULL);

		unit_check(strcmp(p, want) == 0, "store_path");
		g_free(p);
		g_free(want);
	}
	store_unlock(store);
	store_unlock(store);
	unit_check(true, "store_unlock twice is harmless");
	store_close(store);
}

/* rewrite - replace a store file with changed bytes, bypassing the store */
static bool
rewrite(const char *rel, GByteArray *bytes)
{
	char *path = path_of(rel);
	bool ok = unit_write_file(path, bytes->data, bytes->len);

	g_free(path);
	return ok;
}

static GByteArray *
slurp(const char *rel)
{
	char *path = path_of(rel), *text = NULL;
	gsize len = 0;
	GByteArray *out = NULL;

	if (g_file_get_contents(path, &text, &len, NULL))
		out = g_byte_array_new_take((guint8 *)text, len);
	g_free(path);
	return out;
}

typedef enum damage {
	DAMAGE_TRUNCATE_LAST,	/* drop the final newline */
	DAMAGE_TRUNCATE_TRAILER,/* drop the whole trailer line */
	DAMAGE_TRUNCATE_BODY,	/* cut inside the body */
	DAMAGE_FLIP_BODY,	/* change one body byte */
	DAMAGE_FLIP_SUM,	/* change one hex digit of the checksum */
	DAMAGE_LENGTH,		/* declare another length */
	DAMAGE_MAGIC,		/* another format version */
	DAMAGE_EMPTY,		/* zero-length file */
	DAMAGE_APPEND,		/* a line after the trailer */
	DAMAGE_PREPEND		/* a line before the header */
} damage;

static const struct {
	damage how;
	const char *what;
} damages[] = {
	{ DAMAGE_TRUNCATE_LAST, "last byte truncated" },
	{ DAMAGE_TRUNCATE_TRAILER, "trailer missing" },
	{ DAMAGE_TRUNCATE_BODY, "body truncated" },
	{ DAMAGE_FLIP_BODY, "one body byte changed" },
	{ DAMAGE_FLIP_SUM, "checksum changed" },
	{ DAMAGE_LENGTH, "declared length changed" },
	{ DAMAGE_MAGIC, "version changed" },
	{ DAMAGE_EMPTY, "emptied" },
	{ DAMAGE_APPEND, "line appended" },
	{ DAMAGE_PREPEND, "line prepended" },
};

static void
apply_damage(GByteArray *b, damage how)
{
	char *text, *p;

	switch (how) {
	case DAMAGE_TRUNCATE_LAST:
		g_byte_array_set_size(b, b->len - 1);
		break;
	case DAMAGE_TRUNCATE_TRAILER:
		text = g_strndup((char *)b->data, b->len);
		p = strstr(text, "mailseal-end ");
		g_byte_array_set_size(b, (guint)(p - text));
		g_free(text);
		break;
	case DAMAGE_TRUNCATE_BODY:
		text = g_strndup((char *)b->data, b->len);
		p = strstr(text, "line two");
		g_byte_array_remove_range(b, (guint)(p - text), 5);
		g_free(text);
		break;
	case DAMAGE_FLIP_BODY:
		text = g_strndup((char *)b->data, b->len);
		p = strstr(text, "line two");
		b->data[p - text] ^= 0x20;
		g_free(text);
		break;
	case DAMAGE_FLIP_SUM:
		b->data[b->len - 2] = b->data[b->len - 2] == '0' ? '1' : '0';
		break;
	case DAMAGE_LENGTH:
		text = g_strndup((char *)b->data, b->len);
		p = strstr(text, "mailseal-end ") + strlen("mailseal-end ");
		b->data[p - text] = b->data[p - text] == '1' ? '2' : '1';
		g_free(text);
		break;
	case DAMAGE_MAGIC:
		b->data[strlen("mailseal-record ")] = '2';
		break;
	case DAMAGE_EMPTY:
		g_byte_array_set_size(b, 0);
		break;
	case DAMAGE_APPEND:
		g_byte_array_append(b, (const guint8 *)"extra\n", 6);
		break;
	case DAMAGE_PREPEND:
		g_byte_array_prepend(b, (const guint8 *)"junk\n", 5);
		break;
	}
}

static void
check_records(void)
{
	ms_store *store = NULL;
	GByteArray *body = NULL, *pristine;
	static const char text[] = "line one\nline two\nline three\n";
	ms_err err;

	if (store_open(root, false, &store) != MS_OK ||
	    store_lock(store, 1000) != MS_OK) {
		unit_check(false, "open and lock the store for records");
		return;
	}
	err = store_record_write(store, "index/addr", "rec", "addr-index",
	    text, strlen(text), 0600);
	unit_check(err == MS_OK && (mode_of("index/addr/rec") & 07777) ==
	    0600, "store_record_write");
	err = store_record_read(store, "index/addr", "rec", "addr-index",
	    4096, &body);
	unit_check(err == MS_OK && body->len == strlen(text) &&
	    memcmp(body->data, text, body->len) == 0,
	    "store_record_read returns the body");
	if (body)
		g_byte_array_free(body, TRUE);
	body = NULL;

	err = store_record_write(store, "index/addr", "empty", "addr-index",
	    "", 0, 0600);
	err = err == MS_OK ? store_record_read(store, "index/addr", "empty",
	    "addr-index", 4096, &body) : err;
	unit_check(err == MS_OK && body->len == 0,
	    "an empty record round-trips (and is not damage)");
	if (body)
		g_byte_array_free(body, TRUE);
	body = NULL;

	err = store_record_write(store, "index/addr", "blank", "addr-index",
	    "\n", 1, 0600);
	err = err == MS_OK ? store_record_read(store, "index/addr", "blank",
	    "addr-index", 4096, &body) : err;
	unit_check(err == MS_OK && body->len == 1 && body->data[0] == '\n',
	    "a record holding one empty line round-trips");
	if (body)
		g_byte_array_free(body, TRUE);
	body = NULL;

	/* a record that contains a trailer-looking line in its body */
	{
		static const char tricky[] = "mailseal-end 0 "
		    "e3b0c44298fc1c149afbf4c8996fb924"
		    "27ae41e4649b934ca495991b7852b855\nmore\n";

		err = store_record_write(store, "index/addr", "tricky",
		    "addr-index", tricky, strlen(tricky), 0600);
		err = err == MS_OK ? store_record_read(store, "index/addr",
		    "tricky", "addr-index", 4096, &body) : err;
		unit_check(err == MS_OK && body->len == strlen(tricky) &&
		    memcmp(body->data, tricky, body->len) == 0,
		    "a body line that looks like a trailer is only body");
		if (body)
			g_byte_array_free(body, TRUE);
		body = NULL;
	}

	err = store_record_read(store, "index/addr", "rec", "subject-index",
	    4096, &body);
	unit_check(err == MS_TEMP && body == NULL,
	    "store_record_read of the wrong type: MS_TEMP");
	err = store_record_read(store, "index/addr", "rec", "addr",
	    4096, &body);
	unit_check(err == MS_TEMP && body == NULL,
	    "store_record_read of a type prefix: MS_TEMP");
	err = store_record_read(store, "index/addr", "missing", "addr-index",
	    4096, &body);
	unit_check(err == MS_NOTFOUND && body == NULL,
	    "store_record_read of a missing record: MS_NOTFOUND");
	err = store_record_read(store, "index/addr", "rec", "addr-index",
	    20, &body);
	unit_check(err == MS_DATA && body == NULL,
	    "store_record_read over the cap: MS_DATA");

	pristine = slurp("index/addr/rec");
	for (size_t i = 0; pristine != NULL && i < G_N_ELEMENTS(damages);
	    i++) {
		GByteArray *b = g_byte_array_new();

		g_byte_array_append(b, pristine->data, pristine->len);
		apply_damage(b, damages[i].how);
		if (!rewrite("index/addr/rec", b)) {
			unit_check(false, "rewrite the record");
			g_byte_array_free(b, TRUE);
			continue;
		}
		err = store_record_read(store, "index/addr", "rec",
		    "addr-index", 4096, &body);
		unit_check(err == MS_TEMP && body == NULL,
		    "damaged record (%s): MS_TEMP, never empty",
		    damages[i].what);
		if (body)
			g_byte_array_free(body, TRUE);
		body = NULL;
		g_byte_array_free(b, TRUE);
	}
	/* and the undamaged bytes still read */
	if (pristine != NULL && rewrite("index/addr/rec", pristine)) {
		err = store_record_read(store, "index/addr", "rec",
		    "addr-index", 4096, &body);
		unit_check(err == MS_OK, "the restored record reads again");
		if (body)
			g_byte_array_free(body, TRUE);
	}
	if (pristine)
		g_byte_array_free(pristine, TRUE);
	store_close(store);
}

static long
elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 +
	    (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* check_lock_contention - a child holds the lock; the parent's bounded
 * wait ends with MS_TEMP; after the child is gone the lock is free */
static void
check_lock_contention(void)
{
	ms_store *store = NULL;
	int locked[2], release[2], status;
	pid_t pid;
	char c;
	struct timespec start;
	long waited;
	ssize_t ignored;
	ms_err err;

	if (pipe(locked) != 0 || pipe(release) != 0) {
		unit_check(false, "pipes for the lock test");
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		unit_check(false, "fork for the lock test");
		return;
	}
	if (pid == 0) {
		ms_store *child = NULL;

		close(locked[0]);
		close(release[1]);
		if (store_open(root, false, &child) != MS_OK ||
		    store_lock(child, 1000) != MS_OK)
			_exit(3);
		c = 'L';
		if (write(locked[1], &c, 1) != 1)
			_exit(4);
		/* hold the lock until told (or the parent dies: EOF) */
		ignored = read(release[0], &c, 1);
		(void)ignored;
		store_close(child);
		_exit(0);
	}
	close(locked[1]);
	close(release[0]);
	if (read(locked[0], &c, 1) != 1) {
		unit_check(false, "the child took the lock");
		waitpid(pid, &status, 0);
		return;
	}
	if (store_open(root, false, &store) != MS_OK) {
		unit_check(false, "open the store in the parent");
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	err = store_lock(store, 200);
	waited = elapsed_ms(&start);
	unit_check(err == MS_TEMP, "store_lock while another process holds "
	    "it: MS_TEMP");
	unit_check(waited >= 150 && waited < 5000,
	    "the 200 ms wait is bounded (waited %ld ms)", waited);
	clock_gettime(CLOCK_MONOTONIC, &start);
	err = store_lock(store, 0);
	unit_check(err == MS_TEMP && elapsed_ms(&start) < 1000,
	    "store_lock with timeout 0 fails at once");
	c = 'R';
	ignored = write(release[1], &c, 1);
	(void)ignored;
	close(release[1]);
	waitpid(pid, &status, 0);
	unit_check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the child held and released the lock");
	err = store_lock(store, 200);
	unit_check(err == MS_OK, "store_lock after the holder exited");
	/* and a write works under it */
	unit_check(store_write(store, "tmp", "after-lock", "x", 1, 0600) ==
	    MS_OK, "store_write under the regained lock");
	store_close(store);

	/* store_close released it: another handle can lock at once */
	store = NULL;
	if (store_open(root, false, &store) == MS_OK) {
		unit_check(store_lock(store, 0) == MS_OK,
		    "store_close releases the lock");
		store_close(store);
	}
	close(locked[0]);
}

int
main(void)
{
	root = unit_tmpdir("store");
	check_open();
	check_names();
	check_hash_name();
	check_write_read();
	check_records();
	check_lock_contention();
	unit_rmtree(root);
	g_free(root);
	return unit_done();
}
