/*
 * lazylib.c - libraries loaded on first use instead of at every start.
 *
 * The statically linked GMime and GIO refer to libmount and libselinux
 * (GIO's local files and mounts, which no filter uses) and to libidn2
 * (GMime, for an address with an international domain).  Linked as they
 * are, the dynamic loader maps and relocates those three, and libblkid,
 * libunistring and libpcre2 behind them, and runs their constructors at
 * every start of a program: a noticeable part of a filter run under
 * Postfix, which starts one per message.  Linked explicitly into a
 * program (the Makefile does so for mailseal-filter), this object defines
 * the functions those libraries are used through, each of which loads
 * its library by soname (the one compiled against) when it is first
 * called and passes the call on: what the program does is unchanged,
 * only when the library is loaded.  A library that cannot be loaded is a
 * broken installation: the program stops with 75, and the mail waits.
 *
 * Linked into any other program, nothing here is used (the archive's copy
 * is never pulled in: no object before the libraries refers to these).
 */
#include "diag.h"
#include "err.h"

#include <dlfcn.h>
#include <idn2.h>
#include <libmount/libmount.h>
#include <selinux/selinux.h>
#include <string.h>

#ifndef LAZY_LIBMOUNT_SONAME
#define LAZY_LIBMOUNT_SONAME "libmount.so.1"
#endif
#ifndef LAZY_LIBSELINUX_SONAME
#define LAZY_LIBSELINUX_SONAME "libselinux.so.1"
#endif
#ifndef LAZY_LIBIDN2_SONAME
#define LAZY_LIBIDN2_SONAME "libidn2.so.0"
#endif
/* dlopen("") would return the program itself */
_Static_assert(sizeof(LAZY_LIBMOUNT_SONAME) > 1 &&
    sizeof(LAZY_LIBSELINUX_SONAME) > 1 && sizeof(LAZY_LIBIDN2_SONAME) > 1,
    "a library's soname is unknown");

/* lazy_symbol - name from the library soname, loaded once and kept for
 * the life of the process */
static void *
lazy_symbol(const char *soname, const char *name)
{
	void *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	void *address;

	if (handle == NULL) {
		const char *why = dlerror();

		diag_fatal(EXIT_TEMPFAIL, "cannot load %s: %s", soname,
		    why != NULL ? why : "unknown");
	}
	address = dlsym(handle, name);
	if (address == NULL)
		diag_fatal(EXIT_TEMPFAIL, "%s has no %s", soname, name);
	return address;
}

/* lazy_resolve - fill the function pointer at slot on its first use */
static void
lazy_resolve(void *slot, const char *soname, const char *name)
{
	void *address;

	_Static_assert(sizeof(void (*)(void)) == sizeof(void *),
	    "a function pointer is held as dlsym returns it");
	memcpy(&address, slot, sizeof(address));
	if (address == NULL) {
		address = lazy_symbol(soname, name);
		memcpy(slot, &address, sizeof(address));
	}
}

/* each function, with the prototype of the library's header: find the
 * library's on the first call, then pass every call on */
#define LAZY(soname, ret, name, params, args) \
	ret name params { static ret (*call) params; \
	    lazy_resolve(&call, soname, #name); return call args; }
#define LAZY_VOID(soname, name, params, args) \
	void name params { static void (*call) params; \
	    lazy_resolve(&call, soname, #name); call args; }

#define MOUNT LAZY_LIBMOUNT_SONAME
LAZY_VOID(MOUNT, mnt_free_iter, (struct libmnt_iter *itr), (itr))
LAZY_VOID(MOUNT, mnt_free_table, (struct libmnt_table *tb), (tb))
LAZY(MOUNT, const char *, mnt_fs_get_fstype, (struct libmnt_fs *fs), (fs))
LAZY(MOUNT, const char *, mnt_fs_get_options, (struct libmnt_fs *fs), (fs))
LAZY(MOUNT, const char *, mnt_fs_get_root, (struct libmnt_fs *fs), (fs))
LAZY(MOUNT, const char *, mnt_fs_get_source, (struct libmnt_fs *fs), (fs))
LAZY(MOUNT, const char *, mnt_fs_get_target, (struct libmnt_fs *fs), (fs))
LAZY(MOUNT, char *, mnt_fs_strdup_options, (struct libmnt_fs *fs), (fs))
LAZY(MOUNT, const struct libmnt_optmap *, mnt_get_builtin_optmap, (int id),
    (id))
LAZY(MOUNT, const char *, mnt_get_fstab_path, (void), ())
LAZY(MOUNT, int, mnt_has_regular_mtab, (const char **mtab, int *writable),
    (mtab, writable))
LAZY(MOUNT, struct libmnt_iter *, mnt_new_iter, (int direction),
    (direction))
LAZY(MOUNT, struct libmnt_table *, mnt_new_table, (void), ())
LAZY(MOUNT, int, mnt_optstr_get_flags, (const char *optstr,
    unsigned long *flags, const struct libmnt_optmap *map),
    (optstr, flags, map))
LAZY(MOUNT, int, mnt_table_next_fs, (struct libmnt_table *tb,
    struct libmnt_iter *itr, struct libmnt_fs **fs), (tb, itr, fs))
LAZY(MOUNT, int, mnt_table_parse_fstab, (struct libmnt_table *tb,
    const char *filename), (tb, filename))
LAZY(MOUNT, int, mnt_table_parse_mtab, (struct libmnt_table *tb,
    const char *filename), (tb, filename))

#define SELINUX LAZY_LIBSELINUX_SONAME
LAZY(SELINUX, int, is_selinux_enabled, (void), ())
LAZY(SELINUX, int, getfilecon_raw, (const char *path, char **con),
    (path, con))
LAZY(SELINUX, int, lgetfilecon_raw, (const char *path, char **con),
    (path, con))
LAZY(SELINUX, int, fgetfilecon_raw, (int fd, char **con), (fd, con))
LAZY(SELINUX, int, setfilecon_raw, (const char *path, const char *con),
    (path, con))
LAZY_VOID(SELINUX, freecon, (char *con), (con))

#define IDN2 LAZY_LIBIDN2_SONAME
LAZY(IDN2, int, idn2_to_ascii_8z, (const char *input, char **output,
    int flags), (input, output, flags))
LAZY(IDN2, int, idn2_to_unicode_8z8z, (const char *input, char **output,
    int flags), (input, output, flags))
LAZY_VOID(IDN2, idn2_free, (void *ptr), (ptr))
