"""phonenumbers' metadata patterns as automata over the digits 0-9, run on numpy arrays.

The metadata's regular expressions use a small syntax: digits, `\\d`, classes of
digits, groups, alternation, `?` and bounded repetition (`{n}`, `{n,m}`), and `$` at the
end of an alternative of a national prefix. Over that syntax an expression is a finite
language of digit strings of bounded length, so it becomes:

- `Automaton`: a deterministic automaton for several patterns at once, each matched in
  full (`re.fullmatch`, as `_match_national_number` does) or as a prefix (`re.match` used
  as a yes/no, as leading digits are). A state's `matched` set names the patterns a string
  ending there matches; prefix patterns stay matched once they are.
- `FirstMatch`: where `re.match` ends and what its groups hold, for the national prefix
  and international prefix patterns, whose match end matters. Python's `re` takes the
  first alternative (in the pattern's order of preference) that matches; so does this.
- `ZonePrefixes`: the longest of a set of digit strings that starts a number (time zone
  keys).

Each is a table of states x 10 digits; `run` walks every row of a batch through it at
once, one digit position per numpy step. Anything outside the syntax raises
`Unsupported`, and the numbers it concerns are left to the library.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

DIGITS = 10
ALL_DIGITS = (1 << DIGITS) - 1
# Alternatives a FirstMatch pattern may expand to: the largest in the pinned metadata has
# a few thousand; past this the region is left to the library.
MAX_ALTERNATIVES = 20_000


class Unsupported(ValueError):
    """A pattern uses syntax this module does not model."""


# --- syntax -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Chars:
    mask: int  # bit d set: digit d matches


@dataclass(frozen=True)
class Group:
    body: Alternation
    number: int | None  # the capturing group's number, None for (?:...)


@dataclass(frozen=True)
class Repeat:
    item: Chars | Group
    low: int
    high: int


@dataclass(frozen=True)
class Seq:
    items: tuple[Repeat, ...]
    anchored: bool = False  # ends with '$'


@dataclass(frozen=True)
class Alternation:
    options: tuple[Seq, ...]


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0
        self.groups = 0

    def fail(self, why: str) -> Unsupported:
        return Unsupported(f"{why} at {self.at} in {self.text!r}")

    def peek(self) -> str | None:
        return self.text[self.at] if self.at < len(self.text) else None

    def take(self) -> str:
        if self.at >= len(self.text):
            raise self.fail("unexpected end")
        char = self.text[self.at]
        self.at += 1
        return char

    def alternation(self, top: bool) -> Alternation:
        options = [self.sequence(top)]
        while self.peek() == "|":
            self.take()
            options.append(self.sequence(top))
        return Alternation(tuple(options))

    def sequence(self, top: bool) -> Seq:
        items: list[Repeat] = []
        while self.peek() not in (None, "|", ")"):
            if self.peek() == "$":
                self.take()
                if not top or self.peek() not in (None, "|"):
                    raise self.fail("'$' inside the pattern")
                return Seq(tuple(items), anchored=True)
            item = self.atom()
            low, high = self.quantifier()
            items.append(Repeat(item, low, high))
        return Seq(tuple(items))

    def quantifier(self) -> tuple[int, int]:
        char = self.peek()
        if char == "?":
            self.take()
            low, high = 0, 1
        elif char == "{":
            self.take()
            low = high = self.number()
            if self.peek() == ",":
                self.take()
                if self.peek() == "}":
                    raise self.fail("unbounded repetition")
                high = self.number()
            if self.take() != "}" or high < low:
                raise self.fail("bad repetition")
        elif char in ("*", "+"):
            raise self.fail("unbounded repetition")
        else:
            return 1, 1
        if self.peek() in ("?", "+"):  # lazy or possessive: not in the metadata
            raise self.fail("lazy or possessive quantifier")
        return low, high

    def number(self) -> int:
        digits = ""
        while (char := self.peek()) is not None and char.isdigit():
            digits += self.take()
        if not digits:
            raise self.fail("expected a number")
        return int(digits)

    def atom(self) -> Chars | Group:
        char = self.take()
        if char.isdigit() and char.isascii():
            return Chars(1 << int(char))
        if char == "\\":
            if self.take() == "d":
                return Chars(ALL_DIGITS)
            raise self.fail("escape other than \\d")
        if char == "[":
            return self.char_class()
        if char == "(":
            number = None
            if self.text.startswith("?:", self.at):
                self.at += 2
            elif self.peek() == "?":
                raise self.fail("group flag")
            else:
                self.groups += 1
                number = self.groups
            body = self.alternation(top=False)
            if self.take() != ")":
                raise self.fail("unclosed group")
            return Group(body, number)
        raise self.fail(f"character {char!r}")

    def char_class(self) -> Chars:
        mask = 0
        negated = self.peek() == "^"
        if negated:
            self.take()
        first = True
        while (char := self.take()) != "]" or first:
            first = False
            if char == "\\":
                if self.take() != "d":
                    raise self.fail("escape other than \\d in a class")
                mask |= ALL_DIGITS
                continue
            if not (char.isdigit() and char.isascii()):
                raise self.fail(f"class member {char!r}")
            if self.peek() == "-" and self.text[self.at + 1 : self.at + 2] != "]":
                self.take()
                end = self.take()
                if not (end.isdigit() and end.isascii()) or end < char:
                    raise self.fail("bad range")
                for digit in range(int(char), int(end) + 1):
                    mask |= 1 << digit
            else:
                mask |= 1 << int(char)
        return Chars(ALL_DIGITS & ~mask if negated else mask)


@cache
def parse(pattern: str) -> tuple[Alternation, int]:
    """(the pattern's syntax tree, its number of capturing groups)."""
    parser = _Parser(pattern)
    tree = parser.alternation(top=True)
    if parser.at != len(pattern):
        raise parser.fail("unbalanced ')'")
    return tree, parser.groups


# --- automata for yes/no matching -----------------------------------------------------


class _Nfa:
    """Thompson construction: states with epsilon moves and digit-class moves."""

    def __init__(self) -> None:
        self.epsilon: list[list[int]] = []
        self.moves: list[list[tuple[int, int]]] = []

    def state(self) -> int:
        self.epsilon.append([])
        self.moves.append([])
        return len(self.epsilon) - 1

    def add(self, node: Alternation | Seq | Repeat | Chars | Group, start: int) -> int:
        """Add `node` from `start`; return its end state."""
        if isinstance(node, Alternation):
            end = self.state()
            for option in node.options:
                self.epsilon[self.add(option, start)].append(end)
            return end
        if isinstance(node, Seq):
            if node.anchored:
                raise Unsupported("'$' in a pattern matched in full or as a yes/no prefix")
            # a fresh state per option, so options never share moves out of `start`
            current = self.state()
            self.epsilon[start].append(current)
            for item in node.items:
                current = self.add(item, current)
            return current
        if isinstance(node, Repeat):
            current = start
            for _ in range(node.low):
                current = self.add(node.item, current)
            if node.high > node.low:
                ends = [current]
                for _ in range(node.high - node.low):
                    current = self.add(node.item, current)
                    ends.append(current)
                current = self.state()
                for end in ends:
                    self.epsilon[end].append(current)
            return current
        if isinstance(node, Chars):
            end = self.state()
            self.moves[start].append((node.mask, end))
            return end
        return self.add(node.body, start)

    def closure(self, states: Iterable[int]) -> frozenset[int]:
        stack = list(states)
        seen = set(stack)
        while stack:
            for target in self.epsilon[stack.pop()]:
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
        return frozenset(seen)


@dataclass(frozen=True)
class Automaton:
    """A deterministic automaton for patterns matched in full or as a prefix.

    `table[s, d]` is the state after digit d from state s; state 0 is the start.
    `matched[s]`: the patterns a string that ends in state s matches.
    """

    table: np.ndarray  # (states, 10) int32
    matched: tuple[frozenset[int], ...]


FULL = "full"
PREFIX = "prefix"


def _bits(value: int) -> list[int]:
    """The positions of the set bits of `value`."""
    found = []
    while value:
        low = value & -value
        found.append(low.bit_length() - 1)
        value ^= low
    return found


def automaton(patterns: Sequence[tuple[str, str]]) -> Automaton:
    """One automaton for `patterns`, each (regex, FULL or PREFIX); ids are positions.

    Subset construction over the NFA's "important" states (those with a digit move, and
    the accepting ones), as bit sets, with each one's closure and moves per digit worked
    out once.
    """
    nfa = _Nfa()
    start = nfa.state()
    accepting: dict[int, tuple[int, str]] = {}
    for number, (pattern, mode) in enumerate(patterns):
        tree, _ = parse(pattern)
        accepting[nfa.add(tree, start)] = (number, mode)
    important = [s for s in range(len(nfa.moves)) if nfa.moves[s] or s in accepting]
    bit = {state: 1 << position for position, state in enumerate(important)}
    closures: dict[int, int] = {}

    def closure(state: int) -> int:
        if state not in closures:
            closures[state] = sum(bit[s] for s in nfa.closure([state]) if s in bit)
        return closures[state]

    steps = []  # per important state, per digit: the bit set it moves to
    for state in important:
        row = [0] * DIGITS
        for mask, target in nfa.moves[state]:
            reached = closure(target)
            for digit in range(DIGITS):
                if mask >> digit & 1:
                    row[digit] |= reached
        steps.append(row)
    prefix_bits = sum(bit[s] for s, (_, mode) in accepting.items() if mode == PREFIX)
    pattern_of = {bit[s].bit_length() - 1: number for s, (number, _) in accepting.items()}

    def prefixes(states: int) -> int:
        """The PREFIX patterns (as a bit set of pattern ids) accepting in `states`."""
        hits = states & prefix_bits
        return sum(1 << pattern_of[p] for p in _bits(hits)) if hits else 0

    first_states = closure(start)
    first = (first_states, prefixes(first_states))
    ids = {first: 0}
    order = [first]
    rows: list[list[int]] = []
    while len(rows) < len(order):
        states, sticky = order[len(rows)]
        members = [steps[p] for p in _bits(states)]
        row = []
        for digit in range(DIGITS):
            reached = 0
            for member in members:
                reached |= member[digit]
            key = (reached, sticky | prefixes(reached) if prefix_bits else sticky)
            found = ids.get(key)
            if found is None:
                found = ids[key] = len(order)
                order.append(key)
            row.append(found)
        rows.append(row)
    full_bits = sum(bit[s] for s, (_, mode) in accepting.items() if mode == FULL)
    matched = tuple(
        frozenset(pattern_of[p] for p in _bits(states & full_bits)) | frozenset(_bits(sticky))
        for states, sticky in order
    )
    return Automaton(np.array(rows, dtype=np.int32).reshape(-1, DIGITS), matched)


# --- where a prefix match ends, and its groups ------------------------------------------


@dataclass(frozen=True)
class Alternative:
    """One way a FirstMatch pattern matches: a fixed sequence of digit classes."""

    classes: tuple[int, ...]
    anchored: bool  # must end where the number ends
    groups: tuple[tuple[int, int] | None, ...]  # (start, end) per group, None: not taken


def _expand(
    node: Alternation | Seq | Repeat | Chars | Group, groups: int
) -> list[tuple[tuple[int, ...], tuple[tuple[int, int] | None, ...]]]:
    """Every fixed sequence `node` can match, in the order a backtracking matcher tries
    them (first alternative first; greedy repetition: more first), with group spans."""
    empty: tuple[tuple[int, int] | None, ...] = (None,) * groups
    if isinstance(node, Chars):
        return [((node.mask,), empty)]
    if isinstance(node, Alternation):
        return [found for option in node.options for found in _expand(option, groups)]
    if isinstance(node, Seq):
        return _concat([_expand(item, groups) for item in node.items], groups)
    if isinstance(node, Repeat):
        one = _expand(node.item, groups)
        found = []
        for count in range(node.high, node.low - 1, -1):
            found += _concat([one] * count, groups)
        return found
    inner = _expand(node.body, groups)
    if node.number is None:
        return inner
    index = node.number - 1
    return [
        (classes, (*spans[:index], (0, len(classes)), *spans[index + 1 :]))
        for classes, spans in inner
    ]


def _concat(
    parts: list[list[tuple[tuple[int, ...], tuple[tuple[int, int] | None, ...]]]], groups: int
) -> list[tuple[tuple[int, ...], tuple[tuple[int, int] | None, ...]]]:
    found: list[tuple[tuple[int, ...], tuple[tuple[int, int] | None, ...]]] = [
        ((), (None,) * groups)
    ]
    for part in parts:
        joined = []
        for (left, left_spans), (right, right_spans) in itertools.product(found, part):
            shift = len(left)
            spans = tuple(
                (r[0] + shift, r[1] + shift) if r is not None else lspan
                for lspan, r in zip(left_spans, right_spans, strict=True)
            )
            joined.append((left + right, spans))
        if len(joined) > MAX_ALTERNATIVES:
            raise Unsupported(f"more than {MAX_ALTERNATIVES} alternatives")
        found = joined
    return found


def alternatives(pattern: str) -> tuple[tuple[Alternative, ...], int]:
    """(the ways `pattern` matches a prefix, in the order Python's re tries them; its
    number of groups)."""
    tree, groups = parse(pattern)
    found = []
    for option in tree.options:
        for classes, spans in _expand(option, groups):
            found.append(Alternative(classes, option.anchored, spans))
            if len(found) > MAX_ALTERNATIVES:
                raise Unsupported(f"more than {MAX_ALTERNATIVES} alternatives")
    return tuple(found), groups


@dataclass(frozen=True)
class FirstMatch:
    """`re.match(pattern, number)` for numbers of digits: which alternative matches.

    After k digits, a state knows the alternatives still possible and the best one
    already complete; `at_end[s]` is the match when the number ends in state s,
    `unended[s]` when it goes on (anchored alternatives cannot match then); -1: none.
    Past `depth` digits nothing changes.
    """

    table: np.ndarray  # (states, 10) int32
    at_end: np.ndarray  # (states,) int32: alternative index or -1
    unended: np.ndarray  # (states,) int32
    depth: int
    options: tuple[Alternative, ...]
    groups: int


@cache
def first_match(pattern: str) -> FirstMatch:
    options, groups = alternatives(pattern)
    depth = max((len(option.classes) for option in options), default=0)
    none = len(options)  # "no match yet", larger than every index

    def settle(k: int, alive: frozenset[int], best: int) -> tuple:
        """The state after k digits: alive alternatives not worse than `best`."""
        for index in alive:
            option = options[index]
            if len(option.classes) == k and not option.anchored:
                best = min(best, index)
        # `alive` holds alternatives of k classes or more; those of exactly k that
        # are not anchored are complete, so only anchored ones stay, for the end
        alive = frozenset(
            i for i in alive if i < best and (len(options[i].classes) > k or options[i].anchored)
        )
        return (k, alive, best) if alive else (-1, frozenset(), best)

    start = settle(0, frozenset(range(len(options))), none)
    ids = {start: 0}
    order = [start]
    rows: list[list[int]] = []
    while len(rows) < len(order):
        k, alive, best = order[len(rows)]
        row = []
        for digit in range(DIGITS):
            if k < 0:
                target = order[len(rows)]  # nothing can change any more
            else:
                bit = 1 << digit
                reached = frozenset(
                    i for i in alive if len(options[i].classes) > k and options[i].classes[k] & bit
                )
                target = settle(k + 1, reached, best)
            if target not in ids:
                ids[target] = len(order)
                order.append(target)
            row.append(ids[target])
        rows.append(row)

    def answer(state: tuple, ended: bool) -> int:
        k, alive, best = state
        if ended:
            ends_here = [i for i in alive if options[i].anchored and len(options[i].classes) == k]
            best = min([best, *ends_here])
        return -1 if best == none else best

    return FirstMatch(
        table=np.array(rows, dtype=np.int32).reshape(-1, DIGITS),
        at_end=np.array([answer(state, True) for state in order], dtype=np.int32),
        unended=np.array([answer(state, False) for state in order], dtype=np.int32),
        depth=depth,
        options=options,
        groups=groups,
    )


# --- longest key that starts a number ---------------------------------------------------


@dataclass(frozen=True)
class ZonePrefixes:
    """A trie of digit strings: `longest[s]` is the index of the longest key that the
    digits read so far start with (-1: none). A digit past the trie leads to a state
    that keeps that answer whatever follows, so the state after a whole number answers
    for it."""

    table: np.ndarray  # (states, 10) int32
    longest: np.ndarray  # (states,) int32


def zone_prefixes(keys: Sequence[str]) -> ZonePrefixes:
    children: list[list[int]] = [[-1] * DIGITS]
    own: list[int] = [-1]
    for index, key in enumerate(keys):
        node = 0
        for char in key:
            digit = ord(char) - 48
            if children[node][digit] < 0:
                children[node][digit] = len(children)
                children.append([-1] * DIGITS)
                own.append(-1)
            node = children[node][digit]
        own[node] = index
    longest = [-1] * len(children)
    stack = [(0, -1)]
    while stack:
        node, inherited = stack.pop()
        longest[node] = own[node] if own[node] >= 0 else inherited
        stack.extend((child, longest[node]) for child in children[node] if child >= 0)
    # past the trie a number stops in a state of its own that keeps the answer so far
    stopped = {found: len(children) + i for i, found in enumerate(sorted(set(longest)))}
    table = [
        [child if child >= 0 else stopped[longest[node]] for child in row]
        for node, row in enumerate(children)
    ]
    for found, state in stopped.items():
        table.append([state] * DIGITS)
        longest.append(found)
    return ZonePrefixes(np.array(table, dtype=np.int32), np.array(longest, dtype=np.int32))


# --- running ----------------------------------------------------------------------------


def run(
    table: np.ndarray,
    states: np.ndarray,
    digits: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    limit: int | None = None,
) -> np.ndarray:
    """The state each row reaches from `states` after reading its digits.

    Row i reads `digits[starts[i]:starts[i] + lengths[i]]` (digit values 0-9, uint8), at
    most `limit` of them. `table` is (states, 10); several automata can share one table
    at different offsets, each row starting in its own.
    """
    # states as indexes of their row in the flat table: one add and one take a digit
    flat = table.reshape(-1).astype(np.int32) * DIGITS
    remaining = lengths.astype(np.int32)
    if limit is not None:
        np.minimum(remaining, limit, out=remaining)
    result = states.astype(np.int32) * DIGITS
    rows = np.arange(len(result))
    current = result.copy()
    position = starts.astype(np.int64)
    step = 0
    while True:
        live = remaining > step
        count = int(np.count_nonzero(live))
        if count == 0:
            break
        if count < len(rows):
            if count * 2 < len(rows):  # drop the finished rows once most are done
                result[rows] = current
                rows, current, position = rows[live], current[live], position[live]
                remaining = remaining[live]
                continue
            moved = np.take(flat, current + digits[np.where(live, position + step, 0)])
            current = np.where(live, moved, current)
        else:
            current = np.take(flat, current + digits[position + step])
        step += 1
    result[rows] = current
    return result // DIGITS
