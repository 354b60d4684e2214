#!/usr/bin/env python3
"""Renders every chat template under runtime/src/test/resources/chat-templates/ with Jinja2 exactly as transformers
does, for every conversation in conversations.json, and the feature snippets of features.json (one Jinja construct
each: macros, call blocks, filters, whitespace control, ...), and writes goldens.json next to them.

The environment reproduces transformers' `_compile_jinja_template` and `render_jinja_template`
(src/transformers/utils/chat_template_utils.py): an ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks,
the loopcontrols extension and the `{% generation %}` tag, a `tojson` filter that is json.dumps with
ensure_ascii=False, indent, separators and sort_keys, and the globals raise_exception and strftime_now. A render
gets messages, tools (None when a conversation has none), documents=None, add_generation_prompt and the special
tokens. strftime_now reads a fixed clock (FIXED_NOW) so that the goldens do not change with the date; the Java test
renders with the same instant.

Regenerate (needs only `pip install jinja2`; transformers itself is not needed):

    python3 runtime/src/test/python/chat_template_goldens.py
"""
import datetime
import json
import pathlib
import sys

import jinja2
import jinja2.ext
import jinja2.nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = pathlib.Path(__file__).resolve().parents[1] / "resources" / "chat-templates"
FIXED_NOW = datetime.datetime(2026, 1, 15, 9, 30, 5)
SPECIAL_TOKENS = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}


class AssistantTracker(Extension):
    """transformers' `{% generation %}` tag; rendering only needs its body."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_generation_support"), [], [], body).set_lineno(lineno)

    @jinja2.pass_eval_context
    def _generation_support(self, context, caller):
        return caller()


def compile_template(source):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return FIXED_NOW.strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[AssistantTracker, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env.from_string(source)


def main():
    conversations = json.loads((ROOT / "conversations.json").read_text(encoding="utf-8"))
    cases = []
    templates = sorted(ROOT.glob("*.jinja"))
    for path in templates:
        source = path.read_text(encoding="utf-8")
        try:
            template = compile_template(source)
        except jinja2.TemplateError as e:
            sys.exit(f"{path.name}: jinja2 cannot compile it: {e}")
        for conv in conversations:
            for gen in (False, True):
                case = {"template": path.stem, "conversation": conv["name"], "add_generation_prompt": gen}
                try:
                    case["output"] = template.render(messages=conv["messages"], tools=conv.get("tools"),
                                                     documents=None, add_generation_prompt=gen,
                                                     **SPECIAL_TOKENS, **conv.get("variables", {}))
                except jinja2.TemplateError as e:
                    # raise_exception(...) and jinja2's own errors (undefined attributes, type errors) are goldens
                    # too: Floe must refuse the same renders.
                    case["error"] = type(e).__name__ + ": " + str(e)
                except (TypeError, ValueError, AttributeError, KeyError, IndexError) as e:
                    case["error"] = type(e).__name__ + ": " + str(e)
                cases.append(case)
    features = []
    for feature in json.loads((ROOT / "features.json").read_text(encoding="utf-8")):
        case = {"name": feature["name"]}
        try:
            case["output"] = compile_template(feature["template"]).render(**feature["variables"])
        except (jinja2.TemplateError, TypeError, ValueError, AttributeError, KeyError, IndexError) as e:
            case["error"] = type(e).__name__ + ": " + str(e)
        features.append(case)
    out = {"jinja2": jinja2.__version__, "now": FIXED_NOW.isoformat(), "special_tokens": SPECIAL_TOKENS,
           "cases": cases, "features": features}
    (ROOT / "goldens.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    errors = sum(1 for c in cases if "error" in c)
    print(f"{len(templates)} templates, {len(conversations)} conversations: {len(cases)} cases, {errors} errors")


if __name__ == "__main__":
    main()
