/*
 * route.c - the per-recipient routing decision (see route.h).  The order
 * of the tries is the methods list; within smime and pgp the recipient's
 * own certificates or keys come before the domain's.
 */
#include "route.h"
#include "cert.h"
#include "certdb.h"
#include "certstatus.h"
#include "trust.h"
#include "diag.h"
#include "pgp.h"
#include "msgpart.h"
#include "settings.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

typedef enum keyring_state {
	KEYRING_UNKNOWN,
	KEYRING_OPEN,
	KEYRING_ABSENT		/* the store has no OpenPGP keyring yet */
} keyring_state;

struct ms_route {
	const ms_store *store;
	const ms_settings *global;	/* the caller's global settings */
	ms_trust *trust;	/* the caller's, or opened on first need */
	bool trust_owned;	/* opened here, freed here */
	gpgme_ctx_t pgp;	/* opened on first need */
	keyring_state keyring;
};

ms_err
route_open(const ms_store *store, const ms_settings *global, ms_trust *trust,
    ms_route **out)
{
	ms_route *route = g_new0(ms_route, 1);

	route->store = store;
	route->global = global;
	route->trust = trust;
	*out = route;
	return MS_OK;
}

void
route_free(ms_route *route)
{
	if (route == NULL)
		return;
	if (route->trust_owned)
		trust_free(route->trust);
	pgp_close(route->pgp);
	g_free(route);
}

void
route_decision_clear(route_decision *decision)
{
	g_free(decision->fingerprint);
	g_free(decision->own_keys);
	memset(decision, 0, sizeof(*decision));
}

const char *
route_method_name(route_method method)
{
	switch (method) {
	case ROUTE_PLAIN:
		return "plain";
	case ROUTE_SMIME:
		return "smime";
	case ROUTE_PGP:
		return "pgp";
	case ROUTE_PDF:
		return "pdf";
	case ROUTE_WEBMAIL:
		return "webmail";
	case ROUTE_REJECT:
		return "reject";
	}
	return "reject";
}

const char *
route_sign_name(route_sign sign)
{
	switch (sign) {
	case ROUTE_SIGN_NONE:
		return NULL;
	case ROUTE_SIGN_SMIME:
		return "smime";
	case ROUTE_SIGN_PGP:
		return "pgp";
	case ROUTE_SIGN_MISSING:
		return "missing";
	}
	return NULL;
}

/* need_trust - the root and CRL stores, loaded once; an explanation
 * decides every verdict afresh instead of repeating a cached one */
static ms_err
need_trust(ms_route *route, FILE *explain)
{
	if (route->trust == NULL) {
		ms_err err = trust_open(route->store, route->global,
		    &route->trust);

		if (err != MS_OK)
			return err;
		route->trust_owned = true;
	}
	if (explain != NULL)
		trust_no_cache(route->trust);
	return MS_OK;
}

/* need_keyring - the OpenPGP keyring, opened once; a store without one
 * holds no keys, which is not an error (S/MIME-only sites) */
static ms_err
need_keyring(ms_route *route)
{
	char *home;
	struct stat st;
	ms_err err;

	if (route->keyring != KEYRING_UNKNOWN)
		return MS_OK;
	home = store_path(route->store, "gnupg", NULL);
	if (lstat(home, &st) != 0 && errno == ENOENT) {
		g_free(home);
		route->keyring = KEYRING_ABSENT;
		return MS_OK;
	}
	g_free(home);
	err = pgp_open(route->store, false, NULL, &route->pgp);
	if (err == MS_OK)
		route->keyring = KEYRING_OPEN;
	return err;
}

/* join - the strings of list separated by "; " (g_free) */
static char *
join(const GPtrArray *list)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; list != NULL && i < list->len; i++)
		g_string_append_printf(out, "%s%s", i ? "; " : "",
		    (const char *)g_ptr_array_index(list, i));
	return g_string_free(out, FALSE);
}

/* what explain_one needs */
typedef struct explain_ctx {
	ms_route *route;
	cert_purpose purpose;
	FILE *out;
} explain_ctx;

/* explain_one - one certificate's line; for signing, a usable one also
 * needs its private key */
static void
explain_one(const char *fpr, X509 *cert, cert_verdict *verdict, void *data)
{
	explain_ctx *x = data;
	char *why;

	(void)cert;
	if (verdict->usable && x->purpose == CERT_PURPOSE_SIGN &&
	    !certdb_has_key(x->route->store, fpr))
		cert_verdict_add(verdict, CERT_NO_PRIVATE_KEY, true, NULL);
	why = join(verdict->reasons);
	fprintf(x->out, "  certificate %s: %s%s\n", fpr,
	    verdict->usable ? "taken" : "refused: ",
	    verdict->usable ? "" : why);
	g_free(why);
}

/* explain_certs - every certificate indexed for addr, with its verdict
 * for purpose */
static ms_err
explain_certs(ms_route *route, const ms_addr *addr, cert_purpose purpose,
    FILE *out)
{
	explain_ctx x = { route, purpose, out };
	unsigned count;
	ms_err err = cert_candidates(route->trust, route->store, addr, purpose,
	    explain_one, &x, &count);

	if (err == MS_OK && count == 0)
		fprintf(out, "  no certificate in the store for %s\n",
		    addr->text);
	return err;
}

/* smime_own - the recipient's own usable certificates (KEY-4), their
 * fingerprints in *own ("a,b", g_free) for the log */
static ms_err
smime_own(ms_route *route, const ms_addr *addr, FILE *explain, bool *found,
    char **own)
{
	GPtrArray *fprs = NULL;
	ms_err err;

	*found = false;
	err = trust_find(route->trust, addr, CERT_PURPOSE_ENCRYPT, &fprs,
	    NULL);
	if (err == MS_OK && fprs != NULL) {
		g_ptr_array_add(fprs, NULL);
		*own = g_strjoinv(",", (char **)fprs->pdata);
	}
	if (fprs != NULL)
		g_ptr_array_free(fprs, TRUE);
	if (err == MS_OK)
		*found = true;
	else if (err != MS_NOTFOUND)
		return err;
	if (explain != NULL)
		return explain_certs(route, addr, CERT_PURPOSE_ENCRYPT,
		    explain);
	return MS_OK;
}

/* smime_domain - the smime-domain-cert of addr's domain: like a
 * pgp-domain-key, bound to the domain by the administrator, so it need
 * not carry the address; set but missing or unusable defers */
static ms_err
smime_domain(ms_route *route, const ms_settings *settings,
    const ms_addr *addr, FILE *explain, char **fingerprint)
{
	const char *fpr = settings_get(settings, "smime-domain-cert");
	cert_verdict verdict;
	X509 *cert = NULL;
	ms_err err;

	*fingerprint = NULL;
	if (*fpr == '\0') {
		if (explain != NULL)
			fprintf(explain, "  domain certificate: none set "
			    "(smime-domain-cert)\n");
		return MS_OK;
	}
	err = trust_cert_load(route->trust, fpr, &cert);
	if (err == MS_NOTFOUND) {
		diag_error("smime-domain-cert %s for %s is not in the "
		    "certificate store", fpr, addr->domain);
		return MS_CONFIG;
	}
	if (err != MS_OK)
		return err;
	verdict_init(&verdict);
	err = trust_check(route->trust, cert, CERT_PURPOSE_ENCRYPT, NULL,
	    &verdict);
	for (guint i = 0; err == MS_OK && i < verdict.reasons->len; i++) {
		const char *why = g_ptr_array_index(verdict.reasons, i);

		if (cert_verdict_reason_flag(&verdict, i) & CERT_ADDRESS_FLAGS)
			continue;
		diag_error("smime-domain-cert %s for %s is not usable: %s",
		    fpr, addr->domain, why);
		if (explain != NULL)
			fprintf(explain, "  domain certificate %s (%s): "
			    "refused: %s\n", fpr, settings_origin(settings,
			    "smime-domain-cert"), why);
		err = MS_CONFIG;
	}
	verdict_clear(&verdict);
	X509_free(cert);
	if (err != MS_OK)
		return err;
	if (explain != NULL)
		fprintf(explain, "  domain certificate %s (%s): taken\n", fpr,
		    settings_origin(settings, "smime-domain-cert"));
	*fingerprint = g_strdup(fpr);
	return MS_OK;
}

/* pgp_own - the address's own usable keys for purpose (KEY-1), their
 * fingerprints in *own ("a,b", g_free) for the log */
static ms_err
pgp_own(ms_route *route, const ms_addr *addr, pgp_purpose purpose,
    FILE *explain, bool *found, char **own)
{
	GPtrArray *keys = NULL;
	GPtrArray *rejects = g_ptr_array_new_with_free_func(g_free);
	ms_err err;

	*found = false;
	if (route->keyring == KEYRING_ABSENT) {
		if (explain != NULL)
			fprintf(explain, "  the store has no OpenPGP "
			    "keyring\n");
		g_ptr_array_free(rejects, TRUE);
		return MS_OK;
	}
	err = pgp_find_keys(route->pgp, addr, purpose, &keys, rejects);
	if (err == MS_OK) {
		GString *fprs = g_string_new(NULL);

		*found = true;
		for (guint i = 0; i < keys->len; i++)
			g_string_append_printf(fprs, "%s%s", i > 0 ? "," : "",
			    ((gpgme_key_t)g_ptr_array_index(keys, i))->fpr);
		*own = g_string_free(fprs, FALSE);
	}
	if (explain != NULL && (err == MS_OK || err == MS_NOTFOUND)) {
		for (guint i = 0; i < rejects->len; i++)
			fprintf(explain, "  key %s\n", (const char *)
			    g_ptr_array_index(rejects, i));
		for (guint i = 0; keys != NULL && i < keys->len; i++)
			fprintf(explain, "  key %s: taken\n",
			    ((gpgme_key_t)g_ptr_array_index(keys, i))->fpr);
		if (rejects->len == 0 && (keys == NULL || keys->len == 0))
			fprintf(explain, "  no OpenPGP key in the keyring "
			    "for %s\n", addr->text);
	}
	pgp_keys_free(keys);
	g_ptr_array_free(rejects, TRUE);
	return err == MS_NOTFOUND ? MS_OK : err;
}

/* pgp_domain - the pgp-domain-key of addr's domain, as pgp-enc uses it */
static ms_err
pgp_domain(ms_route *route, const ms_settings *settings, const ms_addr *addr,
    FILE *explain, char **fingerprint)
{
	const char *fpr = settings_get(settings, "pgp-domain-key");
	gpgme_key_t key = NULL;
	ms_err err;

	*fingerprint = NULL;
	if (*fpr == '\0') {
		if (explain != NULL)
			fprintf(explain, "  domain key: none set "
			    "(pgp-domain-key)\n");
		return MS_OK;
	}
	if (route->keyring == KEYRING_ABSENT) {
		diag_error("pgp-domain-key %s for %s: the store has no OpenPGP "
		    "keyring", fpr, addr->domain);
		return MS_CONFIG;
	}
	err = pgp_domain_key(route->pgp, fpr, addr->domain, &key);
	if (err != MS_OK) {
		if (explain != NULL)
			fprintf(explain, "  domain key %s (%s): refused\n", fpr,
			    settings_origin(settings, "pgp-domain-key"));
		return err;
	}
	if (explain != NULL)
		fprintf(explain, "  domain key %s (%s): taken\n", key->fpr,
		    settings_origin(settings, "pgp-domain-key"));
	*fingerprint = g_strdup(key->fpr);
	gpgme_key_unref(key);
	return MS_OK;
}

/* try_method - is method usable for addr; fills decision when it is */
static ms_err
try_method(ms_route *route, const ms_settings *settings, const ms_addr *addr,
    const char *method, FILE *explain, route_decision *decision,
    bool *usable)
{
	bool found = false;
	char *fpr = NULL;
	ms_err err = MS_OK;

	*usable = false;
	if (explain != NULL)
		fprintf(explain, "method %s:\n", method);
	if (strcmp(method, "smime") == 0) {
		err = need_trust(route, explain);
		if (err == MS_OK)
			err = smime_own(route, addr, explain, &found,
			    &decision->own_keys);
		if (err == MS_OK && !found)
			err = smime_domain(route, settings, addr, explain,
			    &fpr);
		decision->method = ROUTE_SMIME;
	} else if (strcmp(method, "pgp") == 0) {
		err = need_keyring(route);
		if (err == MS_OK)
			err = pgp_own(route, addr, PGP_PURPOSE_ENCRYPT, explain,
			    &found, &decision->own_keys);
		if (err == MS_OK && !found)
			err = pgp_domain(route, settings, addr, explain, &fpr);
		decision->method = ROUTE_PGP;
	} else if (strcmp(method, "pdf") == 0) {
		const char *mode = settings_get(settings, "pdf-password-mode");

		found = strcmp(mode, "none") != 0;
		if (explain != NULL)
			fprintf(explain, "  pdf-password-mode = %s (%s): %s\n",
			    mode, settings_origin(settings,
			    "pdf-password-mode"), found ? "taken" :
			    "refused: no password mode");
		decision->method = ROUTE_PDF;
	} else if (strcmp(method, "webmail") == 0) {
		found = *settings_get(settings, "webmail-url") != '\0';
		if (explain != NULL)
			fprintf(explain, "  webmail-url (%s): %s\n",
			    settings_origin(settings, "webmail-url"), found ?
			    "taken" : "refused: no portal configured");
		decision->method = ROUTE_WEBMAIL;
	}
	if (err != MS_OK) {
		g_free(fpr);
		return err;
	}
	if (fpr != NULL) {
		decision->domain_key = true;
		decision->fingerprint = fpr;
		found = true;
	}
	*usable = found;
	return MS_OK;
}

ms_err
route_decide(ms_route *route, const ms_addr *recipient, bool forced,
    FILE *explain, route_decision *decision)
{
	ms_settings *settings = NULL;
	const char *mode;
	char **methods = NULL;
	bool usable = false;
	ms_err err;
	int i;

	memset(decision, 0, sizeof(*decision));
	err = settings_load_under(route->global, route->store, recipient,
	    &settings);
	if (err != MS_OK)
		return err;
	mode = settings_get(settings, "encrypt-mode");
	if (explain != NULL) {
		fprintf(explain, "recipient %s\n", recipient->text);
		settings_explain(settings, explain);
		fprintf(explain, "encrypt-mode %s (%s)%s\n", mode,
		    settings_origin(settings, "encrypt-mode"), forced &&
		    strcmp(mode, "mandatory") != 0 ? ", raised to mandatory "
		    "by the message" : "");
	}
	if (forced)
		mode = "mandatory";
	if (strcmp(mode, "none") == 0) {
		decision->method = ROUTE_PLAIN;
		if (explain != NULL)
			fprintf(explain, "no method is tried\n");
		goto done;
	}
	methods = settings_get_list(settings, "methods");
	for (i = 0; methods[i] != NULL && !usable; i++) {
		route_decision_clear(decision);
		err = try_method(route, settings, recipient, methods[i],
		    explain, decision, &usable);
		if (err != MS_OK)
			goto done;
	}
	if (explain != NULL && methods[i] != NULL) {
		fprintf(explain, "not tried:");
		for (; methods[i] != NULL; i++)
			fprintf(explain, " %s", methods[i]);
		fprintf(explain, "\n");
	}
	if (!usable) {
		route_decision_clear(decision);
		if (strcmp(mode, "mandatory") == 0) {
			decision->method = ROUTE_REJECT;
			decision->reason = "no-usable-method";
		} else
			decision->method = ROUTE_PLAIN;
		if (explain != NULL)
			fprintf(explain, "no method is usable: %s\n",
			    decision->method == ROUTE_REJECT ? "refused, "
			    "encryption is mandatory" : "plain text, "
			    "encryption is optional");
	}
done:
	g_strfreev(methods);
	settings_free(settings);
	if (err != MS_OK)
		route_decision_clear(decision);
	return err;
}

ms_err
route_signing(ms_route *route, const ms_addr *sender, FILE *explain,
    route_sign *sign)
{
	ms_settings *settings = NULL;
	const char *want;
	bool found = false;
	ms_err err;

	*sign = ROUTE_SIGN_NONE;
	if (sender == NULL) {
		if (explain != NULL)
			fprintf(explain, "signing: no sender address, not "
			    "signed\n");
		return MS_OK;
	}
	err = settings_load_under(route->global, route->store, sender,
	    &settings);
	if (err != MS_OK)
		return err;
	want = settings_get(settings, "sign");
	if (explain != NULL)
		fprintf(explain, "signing for %s: sign = %s (%s)\n",
		    sender->text, want, settings_origin(settings, "sign"));
	if (strcmp(want, "smime") == 0) {
		GPtrArray *fprs = NULL;

		err = need_trust(route, explain);
		if (err == MS_OK)
			err = trust_find(route->trust, sender,
			    CERT_PURPOSE_SIGN, &fprs, NULL);
		for (guint i = 0; err == MS_OK && i < fprs->len; i++)
			if (certdb_has_key(route->store,
			    g_ptr_array_index(fprs, i)))
				found = true;
		if (fprs != NULL)
			g_ptr_array_free(fprs, TRUE);
		if (err == MS_NOTFOUND)
			err = MS_OK;
		if (err == MS_OK && explain != NULL)
			err = explain_certs(route, sender, CERT_PURPOSE_SIGN,
			    explain);
		if (err == MS_OK)
			*sign = found ? ROUTE_SIGN_SMIME : ROUTE_SIGN_MISSING;
	} else if (strcmp(want, "pgp") == 0) {
		char *keys = NULL;

		err = need_keyring(route);
		if (err == MS_OK)
			err = pgp_own(route, sender, PGP_PURPOSE_SIGN, explain,
			    &found, &keys);
		g_free(keys);
		if (err == MS_OK)
			*sign = found ? ROUTE_SIGN_PGP : ROUTE_SIGN_MISSING;
	}
	if (err == MS_OK && explain != NULL && *sign == ROUTE_SIGN_MISSING)
		fprintf(explain, "  no usable signing key: not signed\n");
	settings_free(settings);
	return err;
}

#define DLP_FIELD "X-Mailseal-DLP"

void
route_triggers_clear(route_triggers *t)
{
	g_free(t->subject_word);
	g_free(t->header_name);
	g_free(t->header_value);
	memset(t, 0, sizeof(*t));
}

/* find_word - the first occurrence of word in text, ASCII case folded */
static const char *
find_word(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = text; *p; p++)
		if (g_ascii_strncasecmp(p, word, n) == 0)
			return p;
	return NULL;
}

/* without_word - text with every occurrence of word removed, and the
 * space after one that followed a space or the start, so that
 * "Re: [encrypt] x" becomes "Re: x"; NULL when word does not occur */
static char *
without_word(const char *text, void *data)
{
	const char *word = data, *p = text, *hit;
	size_t n = strlen(word);
	GString *out;

	if (find_word(text, word) == NULL)
		return NULL;
	out = g_string_new(NULL);
	while ((hit = find_word(p, word)) != NULL) {
		g_string_append_len(out, p, hit - p);
		p = hit + n;
		if (out->len == 0 || g_ascii_isspace(out->str[out->len - 1]))
			while (*p == ' ' || *p == '\t')
				p++;
	}
	g_string_append(out, p);
	return g_strstrip(g_string_free(out, FALSE));
}

/* is_must_encrypt - a DLP verdict "must-encrypt", parameters after ';'
 * ignored */
static bool
is_must_encrypt(const char *value)
{
	static const char verdict[] = "must-encrypt";
	size_t n = sizeof(verdict) - 1;

	return g_ascii_strncasecmp(value, verdict, n) == 0 &&
	    (value[n] == '\0' || value[n] == ';' || g_ascii_isspace(value[n]));
}

void
route_triggers_find(const ms_settings *settings, const ms_message *msg,
    route_triggers *t)
{
	const char *word = settings_get(settings, "encrypt-trigger-subject");
	const char *field = settings_get(settings, "encrypt-trigger-header");
	char **values;

	memset(t, 0, sizeof(*t));
	if (*word != '\0') {
		t->subject_word = g_strdup(word);
		values = msg_header_texts(msg, "Subject");
		for (int i = 0; values[i] != NULL; i++)
			if (find_word(values[i], word) != NULL)
				t->subject = true;
		g_strfreev(values);
	}
	if (*field != '\0') {
		const char *colon = strchr(field, ':');

		t->header_name = colon ? g_strndup(field, colon - field) :
		    g_strdup(field);
		if (colon != NULL)
			t->header_value = g_strstrip(g_strdup(colon + 1));
		values = msg_header_texts(msg, t->header_name);
		for (int i = 0; values[i] != NULL; i++)
			if (t->header_value == NULL ||
			    g_ascii_strcasecmp(values[i], t->header_value) == 0)
				t->header = true;
		g_strfreev(values);
	}
	values = msg_header_texts(msg, DLP_FIELD);
	for (int i = 0; values[i] != NULL; i++)
		if (is_must_encrypt(values[i]))
			t->dlp = true;
	g_strfreev(values);
}

char *
route_triggers_field(const route_triggers *t)
{
	GString *s = g_string_new(NULL);

	if (t->subject)
		g_string_append(s, "subject");
	if (t->header)
		g_string_append_printf(s, "%sheader", s->len ? "," : "");
	if (t->dlp)
		g_string_append_printf(s, "%sdlp", s->len ? "," : "");
	if (s->len == 0) {
		g_string_free(s, TRUE);
		return NULL;
	}
	return g_string_free(s, FALSE);
}

void
route_triggers_remove(ms_message *msg, const route_triggers *t)
{
	if (t->subject)
		(void)msg_header_edit(msg, "Subject", without_word,
		    t->subject_word);
	if (t->header)
		(void)msg_header_remove(msg, t->header_name);
}
