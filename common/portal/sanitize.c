/*
 * sanitize.c - the HTML allow-list of the portal's message view: gumbo
 * parses, a walk without recursion writes only what the tables below
 * allow (sanitize.h says what that guarantees).
 */
#include "sanitize.h"
#include "htmlnest.h"

#include <gumbo.h>
#include <string.h>

/* elements written out, attributes allowed on each */
typedef struct element_rule {
	const char *name;
	const char *const *attributes;	/* beyond the common ones */
} element_rule;

static const char *const no_attributes[] = { NULL };
static const char *const link_attributes[] = { "href", NULL };
static const char *const image_attributes[] = { "src", "alt", NULL };
static const char *const font_attributes[] = {
	"color", "face", "size", NULL
};
static const char *const list_attributes[] = {
	"start", "type", "reversed", NULL
};
static const char *const item_attributes[] = { "value", "type", NULL };
static const char *const cell_attributes[] = {
	"colspan", "rowspan", "nowrap", "abbr", "scope", NULL
};
static const char *const column_attributes[] = { "span", NULL };

/* layout and text attributes: no URL, no script, no CSS */
static const char *const common_attributes[] = {
	"title", "dir", "lang", "align", "valign", "width", "height",
	"bgcolor", "border", "cellpadding", "cellspacing", NULL
};

static const element_rule element_rules[] = {
	{ "a", link_attributes },
	{ "abbr", no_attributes }, { "address", no_attributes },
	{ "article", no_attributes }, { "aside", no_attributes },
	{ "b", no_attributes }, { "bdi", no_attributes },
	{ "bdo", no_attributes }, { "big", no_attributes },
	{ "blockquote", no_attributes }, { "br", no_attributes },
	{ "caption", no_attributes }, { "center", no_attributes },
	{ "cite", no_attributes }, { "code", no_attributes },
	{ "col", column_attributes }, { "colgroup", column_attributes },
	{ "dd", no_attributes }, { "del", no_attributes },
	{ "dfn", no_attributes }, { "div", no_attributes },
	{ "dl", no_attributes }, { "dt", no_attributes },
	{ "em", no_attributes }, { "figcaption", no_attributes },
	{ "figure", no_attributes }, { "font", font_attributes },
	{ "footer", no_attributes }, { "h1", no_attributes },
	{ "h2", no_attributes }, { "h3", no_attributes },
	{ "h4", no_attributes }, { "h5", no_attributes },
	{ "h6", no_attributes }, { "header", no_attributes },
	{ "hr", no_attributes }, { "i", no_attributes },
	{ "img", image_attributes }, { "ins", no_attributes },
	{ "kbd", no_attributes }, { "li", item_attributes },
	{ "main", no_attributes }, { "mark", no_attributes },
	{ "ol", list_attributes }, { "p", no_attributes },
	{ "pre", no_attributes }, { "q", no_attributes },
	{ "s", no_attributes }, { "samp", no_attributes },
	{ "section", no_attributes }, { "small", no_attributes },
	{ "span", no_attributes }, { "strike", no_attributes },
	{ "strong", no_attributes }, { "sub", no_attributes },
	{ "sup", no_attributes }, { "table", no_attributes },
	{ "tbody", no_attributes }, { "td", cell_attributes },
	{ "tfoot", no_attributes }, { "th", cell_attributes },
	{ "thead", no_attributes }, { "tr", no_attributes },
	{ "tt", no_attributes }, { "u", no_attributes },
	{ "ul", list_attributes }, { "var", no_attributes },
	{ "wbr", no_attributes },
};

/* dropped with everything inside: code, active content, forms (their
 * text would only mislead), the head, and noscript (gumbo parses it as
 * if scripting were off, a browser with scripting on does not: mXSS) */
static const GumboTag dropped_tags[] = {
	GUMBO_TAG_SCRIPT, GUMBO_TAG_STYLE, GUMBO_TAG_NOSCRIPT,
	GUMBO_TAG_TEMPLATE, GUMBO_TAG_SVG, GUMBO_TAG_MATH,
	GUMBO_TAG_IFRAME, GUMBO_TAG_OBJECT, GUMBO_TAG_EMBED,
	GUMBO_TAG_APPLET, GUMBO_TAG_FORM, GUMBO_TAG_INPUT,
	GUMBO_TAG_BUTTON, GUMBO_TAG_TEXTAREA, GUMBO_TAG_SELECT,
	GUMBO_TAG_META, GUMBO_TAG_LINK, GUMBO_TAG_BASE, GUMBO_TAG_FRAME,
	GUMBO_TAG_FRAMESET, GUMBO_TAG_NOFRAMES, GUMBO_TAG_NOEMBED,
	GUMBO_TAG_HEAD, GUMBO_TAG_TITLE, GUMBO_TAG_AREA, GUMBO_TAG_PARAM,
	GUMBO_TAG_AUDIO, GUMBO_TAG_VIDEO, GUMBO_TAG_SOURCE,
	GUMBO_TAG_TRACK, GUMBO_TAG_CANVAS, GUMBO_TAG_KEYGEN,
};

/* elements with no end tag */
static bool
is_void(const char *name)
{
	return strcmp(name, "br") == 0 || strcmp(name, "hr") == 0 ||
	    strcmp(name, "img") == 0 || strcmp(name, "wbr") == 0 ||
	    strcmp(name, "col") == 0;
}

static const element_rule *
find_rule(const char *element)
{
	for (size_t i = 0; i < G_N_ELEMENTS(element_rules); i++)
		if (strcmp(element_rules[i].name, element) == 0)
			return &element_rules[i];
	return NULL;
}

static bool
in_list(const char *const *list, const char *name)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, name) == 0)
			return true;
	return false;
}

bool
sanitize_element_allowed(const char *element)
{
	return find_rule(element) != NULL;
}

bool
sanitize_attribute_allowed(const char *element, const char *attribute)
{
	const element_rule *rule = find_rule(element);

	return rule != NULL && (in_list(common_attributes, attribute) ||
	    in_list(rule->attributes, attribute));
}

static bool
url_attribute(const char *attribute)
{
	return strcmp(attribute, "href") == 0 || strcmp(attribute, "src") == 0;
}

/* has_prefix - case-insensitive prefix test */
static bool
has_prefix(const char *s, const char *prefix)
{
	return g_ascii_strncasecmp(s, prefix, strlen(prefix)) == 0;
}

char *
sanitize_url(const char *value, bool for_image, bool remote_ok,
    bool *remote)
{
	static const char *const data_images[] = {
		"data:image/png;", "data:image/png,", "data:image/gif;",
		"data:image/gif,", "data:image/jpeg;", "data:image/jpeg,",
		"data:image/webp;", "data:image/webp,"
	};
	GString *url = g_string_sized_new(strlen(value));
	const char *start = value, *end = value + strlen(value);
	bool is_remote, ok = false;

	if (remote != NULL)
		*remote = false;
	/* what the URL parser strips: leading and trailing C0 control or
	 * space, and every ASCII tab or line end anywhere */
	while (start < end && (unsigned char)*start <= 0x20)
		start++;
	while (end > start && (unsigned char)end[-1] <= 0x20)
		end--;
	for (const char *p = start; p < end; p++)
		if (*p != '\t' && *p != '\n' && *p != '\r')
			g_string_append_c(url, *p);
	is_remote = has_prefix(url->str, "http://") ||
	    has_prefix(url->str, "https://");
	if (!for_image)
		ok = is_remote || has_prefix(url->str, "mailto:");
	else if (is_remote)
		ok = remote_ok;
	else if (has_prefix(url->str, "cid:"))
		ok = true;
	else
		for (size_t i = 0; i < G_N_ELEMENTS(data_images); i++)
			if (has_prefix(url->str, data_images[i]))
				ok = true;
	if (remote != NULL)
		*remote = is_remote;
	if (!ok) {
		g_string_free(url, TRUE);
		return NULL;
	}
	return g_string_free(url, FALSE);
}

/* append_escaped - text or an attribute value, our own escaper */
static void
append_escaped(GString *out, const char *s)
{
	for (; *s != '\0'; s++)
		switch (*s) {
		case '&': g_string_append(out, "&amp;"); break;
		case '<': g_string_append(out, "&lt;"); break;
		case '>': g_string_append(out, "&gt;"); break;
		case '"': g_string_append(out, "&quot;"); break;
		case '\'': g_string_append(out, "&#39;"); break;
		default: g_string_append_c(out, *s); break;
		}
}

typedef struct walk {
	GString *out;
	unsigned flags;
	sanitize_report *report;
} walk;

/* room - whether len more octets (escaped: up to six each) still fit */
static bool
room(walk *w, size_t len)
{
	if (w->report->truncated || len > SANITIZE_OUTPUT_MAX / 6 ||
	    w->out->len + len * 6 > SANITIZE_OUTPUT_MAX) {
		w->report->truncated = true;
		return false;
	}
	return true;
}

/* what to do with an element */
typedef enum action { KEEP, UNWRAP, DROP } action;

static action
element_action(const GumboNode *node, bool too_deep)
{
	const GumboElement *e = &node->v.element;

	if (node->type == GUMBO_NODE_TEMPLATE ||
	    e->tag_namespace != GUMBO_NAMESPACE_HTML)
		return DROP;
	for (size_t i = 0; i < G_N_ELEMENTS(dropped_tags); i++)
		if (e->tag == dropped_tags[i])
			return DROP;
	if (too_deep || e->tag == GUMBO_TAG_UNKNOWN ||
	    find_rule(gumbo_normalized_tagname(e->tag)) == NULL)
		return UNWRAP;
	return KEEP;
}

/* start_tag - the allowed attributes of an element kept; false when
 * the element is to be unwrapped after all (a link or image without an
 * allowed URL) */
static bool
start_tag(walk *w, const GumboElement *e, const char *name)
{
	GString *tag = g_string_new("<");
	bool has_url = false, remote;

	g_string_append(tag, name);
	for (unsigned i = 0; i < e->attributes.length; i++) {
		const GumboAttribute *a = e->attributes.data[i];
		char *url = NULL;

		if (!sanitize_attribute_allowed(name, a->name)) {
			w->report->attributes_dropped++;
			continue;
		}
		if (url_attribute(a->name)) {
			url = sanitize_url(a->value, e->tag == GUMBO_TAG_IMG,
			    (w->flags & SANITIZE_REMOTE_IMAGES) != 0, &remote);
			if (url == NULL) {
				if (e->tag == GUMBO_TAG_IMG && remote)
					w->report->remote_images++;
				else
					w->report->urls_refused++;
				continue;
			}
			has_url = true;
		}
		g_string_append_printf(tag, " %s=\"", a->name);
		append_escaped(tag, url != NULL ? url : a->value);
		g_string_append_c(tag, '"');
		g_free(url);
	}
	if ((e->tag == GUMBO_TAG_A || e->tag == GUMBO_TAG_IMG) && !has_url) {
		g_string_free(tag, TRUE);
		return false;
	}
	if (e->tag == GUMBO_TAG_A)
		g_string_append(tag,
		    " rel=\"noopener noreferrer\" target=\"_blank\"");
	g_string_append_c(tag, '>');
	/* a parser drops one line end right after <pre>: give it one, so a
	 * line end the text starts with stays (the HTML serializer's rule) */
	if (e->tag == GUMBO_TAG_PRE)
		g_string_append_c(tag, '\n');
	g_string_append_len(w->out, tag->str, tag->len);
	g_string_free(tag, TRUE);
	return true;
}

/* a node to visit, or (leaving) an element whose end tag is due */
typedef struct visit {
	const GumboNode *node;
	unsigned depth;
	bool leaving;
} visit;

static void
walk_tree(walk *w, const GumboNode *root)
{
	GArray *stack = g_array_new(FALSE, FALSE, sizeof(visit));
	visit v = { root, 0, false };

	g_array_append_val(stack, v);
	while (stack->len > 0) {
		const GumboVector *children;
		const char *name;

		v = g_array_index(stack, visit, stack->len - 1);
		g_array_set_size(stack, stack->len - 1);
		if (v.leaving) {
			name = gumbo_normalized_tagname(v.node->v.element.tag);
			if (!is_void(name))
				g_string_append_printf(w->out, "</%s>", name);
			continue;
		}
		switch (v.node->type) {
		case GUMBO_NODE_TEXT:
		case GUMBO_NODE_WHITESPACE:
		case GUMBO_NODE_CDATA:
			if (room(w, strlen(v.node->v.text.text)))
				append_escaped(w->out, v.node->v.text.text);
			continue;
		case GUMBO_NODE_COMMENT:
			continue;
		case GUMBO_NODE_DOCUMENT:
			children = &v.node->v.document.children;
			break;
		case GUMBO_NODE_ELEMENT:
		case GUMBO_NODE_TEMPLATE:
		default:
			children = &v.node->v.element.children;
			switch (element_action(v.node,
			    v.depth >= SANITIZE_DEPTH_MAX)) {
			case DROP:
				/* gumbo makes a head for every document */
				if (v.node->v.element.tag != GUMBO_TAG_HEAD)
					w->report->elements_dropped++;
				continue;
			case UNWRAP:
				break;
			case KEEP:
				name = gumbo_normalized_tagname(
				    v.node->v.element.tag);
				if (!room(w, 64) ||
				    !start_tag(w, &v.node->v.element, name))
					break;
				v.leaving = true;
				g_array_append_val(stack, v);
				break;
			}
			break;
		}
		for (unsigned i = children->length; i > 0; i--) {
			visit child = { children->data[i - 1], v.depth + 1,
			    false };

			g_array_append_val(stack, child);
		}
	}
	g_array_free(stack, TRUE);
}

GString *
html_sanitize(const char *html, size_t len, unsigned flags,
    sanitize_report *report)
{
	GumboOptions options = kGumboDefaultOptions;
	GumboOutput *parsed;
	sanitize_report unused;
	char *valid = NULL;
	walk w;

	if (report == NULL)
		report = &unused;
	memset(report, 0, sizeof(*report));
	if (len > SANITIZE_INPUT_MAX ||
	    html_nest_cut(html, len, 0, SANITIZE_NESTING_MAX) < len)
		return NULL;
	if (!g_utf8_validate_len(html, len, NULL)) {
		valid = g_utf8_make_valid(html, (gssize)len);
		html = valid;
		len = strlen(valid);
	}
	/* parse errors are not wanted: do not keep them (memory) */
	options.max_errors = 0;
	parsed = gumbo_parse_with_options(&options, html, len);
	w.out = g_string_sized_new(len + 16);
	w.flags = flags;
	w.report = report;
	walk_tree(&w, parsed->document);
	gumbo_destroy_output(&options, parsed);
	g_free(valid);
	return w.out;
}
