"""A labelled probe corpus of short English sentences with four independent attributes.

Written for subspacekit. Every sentence is generated from a template and a small
vocabulary, so each attribute value is known exactly:

==============  ==========================================  ===================================
attribute       values                                      carried by
==============  ==========================================  ===================================
``sentiment``   negative, positive                          an evaluative word (see templates)
``tense``       past, present, future                       the verb (``cooked`` / ``cooks`` /
                                                            ``will cook``) and ``was/is/will be``
``number``      singular, plural                            the subject noun (and present-tense
                                                            agreement)
``topic``       food, sports, music, technology             subject, verb and object
==============  ==========================================  ===================================

Design: a full factorial over the 2 x 3 x 2 x 4 = 48 attribute combinations with
``n_per_cell`` sentences each (default 50, so 2,400 sentences). Every combination occurs
equally often, so each attribute is exactly balanced and the attributes are exactly
independent in the corpus (their joint frequency is the product of the marginals). Within
each cell the four templates are used equally often (template is also independent of the
attributes) and the words are drawn with a fixed-seed generator, redrawn until the
sentence is new, so the corpus is the same on every machine and has no duplicates.

Templates (``{be}`` is was / is / will be)::

    0  "{Det} {subject} {verb} {object}, and it {be} {evaluation}."
    1  "{Sentence adverb}, {det} {subject} {verb} {object}."
    2  "{Det} {attitude adjective} {subject} {verb} {object}."
    3  "{Det} {subject} {verb} {object} {manner phrase}."

Examples
--------
>>> corpus = probe_corpus()
>>> len(corpus.texts), corpus.attributes
(2400, ('sentiment', 'tense', 'number', 'topic'))
>>> corpus.texts[3]
'Unfortunately, our programmers build the app.'
>>> {a: corpus.label_names[a][corpus.labels[a][3]] for a in corpus.attributes}
{'sentiment': 'negative', 'tense': 'present', 'number': 'plural', 'topic': 'technology'}
"""

from __future__ import annotations

from itertools import product

import numpy as np
from sklearn.utils import Bunch

from subspacekit.core.validation import check_random_state
from subspacekit.errors import ValidationError

__all__ = ["PROBE_ATTRIBUTES", "probe_corpus"]

PROBE_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "sentiment": ("negative", "positive"),
    "tense": ("past", "present", "future"),
    "number": ("singular", "plural"),
    "topic": ("food", "sports", "music", "technology"),
}

# topic -> subjects (singular, plural) and verbs (base, past, 3rd person singular, object)
_SUBJECTS = {
    "food": [("chef", "chefs"), ("baker", "bakers"), ("cook", "cooks"), ("waiter", "waiters"),
             ("farmer", "farmers")],
    "sports": [("player", "players"), ("coach", "coaches"), ("runner", "runners"),
               ("swimmer", "swimmers"), ("goalkeeper", "goalkeepers")],
    "music": [("singer", "singers"), ("drummer", "drummers"), ("pianist", "pianists"),
              ("guitarist", "guitarists"), ("composer", "composers")],
    "technology": [("engineer", "engineers"), ("programmer", "programmers"),
                   ("developer", "developers"), ("technician", "technicians"),
                   ("designer", "designers")],
}  # fmt: skip
_VERBS = {
    "food": [("cook", "cooked", "cooks", "the soup"), ("bake", "baked", "bakes", "the bread"),
             ("serve", "served", "serves", "the dinner"),
             ("prepare", "prepared", "prepares", "the salad"),
             ("taste", "tasted", "tastes", "the sauce")],
    "sports": [("play", "played", "plays", "the match"),
               ("watch", "watched", "watches", "the game"),
               ("train", "trained", "trains", "for the race"),
               ("join", "joined", "joins", "the team"),
               ("finish", "finished", "finishes", "the season")],
    "music": [("perform", "performed", "performs", "the song"),
              ("record", "recorded", "records", "an album"),
              ("rehearse", "rehearsed", "rehearses", "for the concert"),
              ("write", "wrote", "writes", "a melody"),
              ("practise", "practised", "practises", "the tune")],
    "technology": [("build", "built", "builds", "the app"),
                   ("test", "tested", "tests", "the server"),
                   ("fix", "fixed", "fixes", "the laptop"),
                   ("update", "updated", "updates", "the software"),
                   ("design", "designed", "designs", "the website")],
}  # fmt: skip
_DETERMINERS = ("The", "Our", "My")
_BE = {"past": "was", "present": "is", "future": "will be"}
# sentiment -> words for each template; equal list lengths keep the two sides alike
_EVALUATIONS = {
    "positive": ("wonderful", "delightful", "excellent", "brilliant", "superb", "lovely",
                 "fantastic", "splendid"),
    "negative": ("awful", "terrible", "dreadful", "disappointing", "horrible", "miserable",
                 "poor", "dismal"),
}  # fmt: skip
_ADVERBS = {
    "positive": ("Happily", "Luckily", "Fortunately", "Thankfully"),
    "negative": ("Sadly", "Unfortunately", "Regrettably", "Annoyingly"),
}
_ATTITUDES = {
    "positive": ("cheerful", "talented", "friendly", "kind"),
    "negative": ("grumpy", "careless", "rude", "clumsy"),
}
_MANNERS = {
    "positive": ("with great joy", "with real pride", "with a big smile", "with enthusiasm"),
    "negative": ("with great frustration", "with real dread", "with a deep frown",
                 "with reluctance"),
}  # fmt: skip
N_TEMPLATES = 4


def _verb_phrase(verb: tuple[str, str, str, str], tense: str, number: str) -> str:
    base, past, third, obj = verb
    if tense == "past":
        form = past
    elif tense == "future":
        form = f"will {base}"
    else:
        form = third if number == "singular" else base
    return f"{form} {obj}"


def _sentence(
    template: int, sentiment: str, tense: str, number: str, topic: str,
    rng: np.random.RandomState,
) -> str:  # fmt: skip
    singular, plural = _SUBJECTS[topic][rng.randint(len(_SUBJECTS[topic]))]
    subject = singular if number == "singular" else plural
    verb = _verb_phrase(_VERBS[topic][rng.randint(len(_VERBS[topic]))], tense, number)
    det = _DETERMINERS[rng.randint(len(_DETERMINERS))]
    if template == 0:
        word = _EVALUATIONS[sentiment][rng.randint(len(_EVALUATIONS[sentiment]))]
        return f"{det} {subject} {verb}, and it {_BE[tense]} {word}."
    if template == 1:
        word = _ADVERBS[sentiment][rng.randint(len(_ADVERBS[sentiment]))]
        return f"{word}, {det.lower()} {subject} {verb}."
    if template == 2:
        word = _ATTITUDES[sentiment][rng.randint(len(_ATTITUDES[sentiment]))]
        return f"{det} {word} {subject} {verb}."
    word = _MANNERS[sentiment][rng.randint(len(_MANNERS[sentiment]))]
    return f"{det} {subject} {verb} {word}."


def probe_corpus(n_per_cell: int = 50, *, random_state: int = 0, shuffle: bool = True) -> Bunch:
    """Generate the labelled probe corpus (deterministic for a given ``random_state``).

    Parameters
    ----------
    n_per_cell : int, default 50
        Sentences per combination of attribute values (48 combinations), 1 to 240.
    random_state : int, default 0
        Seed of the word choices and of the shuffle.
    shuffle : bool, default True
        Shuffle the sentences (otherwise they are grouped by combination).

    Returns
    -------
    sklearn.utils.Bunch
        ``texts`` (list of str; also ``data``), ``labels`` (dict attribute -> int64
        array of value indices), ``label_names`` (dict attribute -> tuple of value
        names), ``attributes`` (tuple of attribute names), ``template`` (int array of the
        template used), ``DESCR``.

    Examples
    --------
    >>> small = probe_corpus(2)
    >>> len(small.texts), np.bincount(small.labels["topic"]).tolist()
    (96, [24, 24, 24, 24])
    """
    # 5 subjects x 5 verbs x 3 determiners x 4 words = 300 distinct sentences per template
    if not 1 <= n_per_cell <= 240:
        raise ValidationError(f"n_per_cell must be between 1 and 240; got {n_per_cell}")
    rng = check_random_state(random_state)
    attributes = tuple(PROBE_ATTRIBUTES)
    texts: list[str] = []
    labels: dict[str, list[int]] = {name: [] for name in attributes}
    templates: list[int] = []
    seen: set[str] = set()
    cells = product(*(range(len(PROBE_ATTRIBUTES[a])) for a in attributes))
    for cell in cells:
        values = [PROBE_ATTRIBUTES[a][i] for a, i in zip(attributes, cell, strict=True)]
        for k in range(n_per_cell):
            template = k % N_TEMPLATES
            while True:
                text = _sentence(template, *values, rng)
                if text not in seen:
                    break
            seen.add(text)
            texts.append(text)
            templates.append(template)
            for name, index in zip(attributes, cell, strict=True):
                labels[name].append(index)
    order = rng.permutation(len(texts)) if shuffle else np.arange(len(texts))
    return Bunch(
        texts=[texts[i] for i in order],
        data=[texts[i] for i in order],
        labels={name: np.asarray(v, dtype=np.int64)[order] for name, v in labels.items()},
        label_names=dict(PROBE_ATTRIBUTES),
        attributes=attributes,
        template=np.asarray(templates, dtype=np.int64)[order],
        DESCR=__doc__ or "",
    )
