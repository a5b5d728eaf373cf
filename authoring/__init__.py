"""dredconf.authoring: the spec authoring kit (``dredconf spec``): the drafts' tables, worked examples and syntax
figures, generated from ``spec`` and the reference, so that what a draft shows and what the reference does
cannot disagree."""
