/*
 * sanitize-check.h - the property html_sanitize() promises, checked by
 * test-sanitize.c and fuzz-sanitize.c: its output, parsed again by gumbo
 * as a browser would, holds only allowed elements (besides the html,
 * head and body a parser adds), allowed attributes with allowed URLs,
 * no comment, nothing outside the HTML namespace.  Only the tests parse
 * the output again; the portal never does.
 */
#ifndef MAILSEAL_SANITIZE_CHECK_H
#define MAILSEAL_SANITIZE_CHECK_H

#include "sanitize.h"

#include <glib.h>
#include <gumbo.h>
#include <stdbool.h>
#include <string.h>

static inline bool
sanitize_check_attribute(const char *element, const GumboAttribute *a)
{
	char *url;

	if (strcmp(element, "a") == 0 &&
	    ((strcmp(a->name, "rel") == 0 &&
	    strcmp(a->value, "noopener noreferrer") == 0) ||
	    (strcmp(a->name, "target") == 0 &&
	    strcmp(a->value, "_blank") == 0)))
		return true;
	if (!sanitize_attribute_allowed(element, a->name) ||
	    strncmp(a->name, "on", 2) == 0)
		return false;
	if (strcmp(a->name, "href") != 0 && strcmp(a->name, "src") != 0)
		return true;
	url = sanitize_url(a->value, strcmp(element, "img") == 0, true, NULL);
	g_free(url);
	return url != NULL;
}

/* sanitize_check_output - whether html parses to allowed nodes only;
 * *why (may be NULL) names the first offender (static text) */
static inline bool
sanitize_check_output(const char *html, size_t len, const char **why)
{
	GumboOutput *parsed = gumbo_parse_with_options(&kGumboDefaultOptions,
	    html, len);
	GPtrArray *stack = g_ptr_array_new();
	const char *bad = NULL;

	g_ptr_array_add(stack, parsed->document);
	while (bad == NULL && stack->len > 0) {
		const GumboNode *node = g_ptr_array_remove_index(stack,
		    stack->len - 1);
		const GumboVector *children;
		const char *name;

		if (node->type == GUMBO_NODE_COMMENT)
			bad = "a comment";
		if (node->type == GUMBO_NODE_TEMPLATE)
			bad = "a template";
		if (node->type == GUMBO_NODE_DOCUMENT) {
			children = &node->v.document.children;
		} else if (node->type == GUMBO_NODE_ELEMENT) {
			const GumboElement *e = &node->v.element;

			name = gumbo_normalized_tagname(e->tag);
			if (e->tag_namespace != GUMBO_NAMESPACE_HTML)
				bad = "an element outside HTML";
			else if (e->tag == GUMBO_TAG_HTML ||
			    e->tag == GUMBO_TAG_HEAD || e->tag == GUMBO_TAG_BODY)
				/* made by the parser: none in the output */
				bad = e->attributes.length > 0 ||
				    (e->tag == GUMBO_TAG_HEAD &&
				    e->children.length > 0) ?
				    "html, head or body with content" : NULL;
			else if (!sanitize_element_allowed(name))
				bad = "an element not allowed";
			for (unsigned i = 0; bad == NULL &&
			    e->tag != GUMBO_TAG_HTML &&
			    i < e->attributes.length; i++)
				if (!sanitize_check_attribute(name,
				    e->attributes.data[i]))
					bad = "an attribute not allowed";
			children = &e->children;
		} else {
			continue;
		}
		for (unsigned i = 0; i < children->length; i++)
			g_ptr_array_add(stack, children->data[i]);
	}
	g_ptr_array_free(stack, TRUE);
	gumbo_destroy_output(&kGumboDefaultOptions, parsed);
	if (why != NULL)
		*why = bad;
	return bad == NULL;
}

#endif
