"""Plugins: the components that built-in code and third-party packages register.

A plugin is a module or object with `@hookimpl` functions for the hooks of
`annotary.hookspecs`; each hook returns descriptors of one component type
(consensus methods, pre-labelers, exporters, PII recognizers). The built-in
components register through the same hooks, first.

Modules: `manager` (`load_plugins`, `default_plugins`: built-ins, then entry
points of the group `annotary`, then plugins given explicitly), `registry`
(`Plugins`, what the hooks returned, checked, by name), `checks` (the rules a
descriptor must follow: versioned names, known kinds). Import from them; this
package imports nothing, so that a descriptor module can use `checks` without
pulling in the registry.
"""
