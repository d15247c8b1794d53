"""Which artifact a quoted part of the card speaks about: the subject, or another one it names.

A card names its siblings and baselines next to its own facts, and a number copied from one of
those passages does not back a claim about the subject. A quote's span is cut into pieces, each with
an owner (None: the subject, or no artifact in particular):

- Table rows: in a table whose first column names the subject or a member of its family (a roster
  or comparison table), a row whose label names another artifact is about that artifact
  ("| Qwen3-Embedding-8B | 8B | 36 | 4096 |"). In a transposed table, whose header row names the
  subject, each column named after another artifact is about it. Tables of benchmarks or labels
  (no subject or sibling among the row labels) attribute nothing.
- Prose: a sentence is cut into clauses at commas, semicolons, parentheses and contrast words
  (while, whereas, but, than, unlike, compared with, versus). Inside a clause the text after a name
  that opens the clause (only connectives or articles before it: "our model scores 69.5", "than
  bge-m3 at 63.2") belongs to that name; a name in object position ("it succeeds Qwen2-Embedding and
  runs on 8 GPUs") takes nothing. Text before any name belongs to: the previous clause's last name when the
  clause is a relative one ("BGE-M3, which reaches 63.2"), the name just before an opening
  parenthesis ("bge-m3 (1024 dims)"), else the name that opens the sentence ("Qwen3-Embedding-8B, the
  largest member, outputs 4096-dimensional vectors"), else the innermost heading that opens with a
  name ("## Qwen3-Embedding-8B"), else the subject. Self-references ("the model", "this dataset")
  refer to that same context.

A whole quote is about another artifact when all its table rows (or columns) are, or when its
sentence or section opens with another artifact's name and the quote never names the subject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from decompose.grounding.layout import Layout, Row, Span
from decompose.grounding.names import Mention, Subject

_CLAUSE_BREAK = re.compile(
    r"[,;]\s+|\s*[()]\s*|\s+(?=(?:while|whereas|but|than|unlike|compared (?:with|to)|versus|vs\.?)\s)",
    re.IGNORECASE,
)
_RELATIVE = re.compile(r"(?i)(?:and\s+)?(?:which|who|that|where|whose)\b")
_LEAD = re.compile(r"(?:[\s*_`>#|+-]|\d+[.)]\s)*")
_CONNECTIVES = frozenset(
    "and but or while whereas unlike compared with to than versus vs the a an for however meanwhile "
    "by contrast in".split()
)


@dataclass(frozen=True)
class Piece:
    """Part of a quoted span and the other artifact it is about (None: the subject, or nobody)."""

    start: int
    end: int
    owner: str | None


@dataclass(frozen=True)
class Attribution:
    about: str | None
    pieces: tuple[Piece, ...]


class Attributor:
    """Attributes quoted spans of one card to the subject or to other artifacts it names."""

    def __init__(self, text: str, layout: Layout, subject: Subject) -> None:
        self.text = text
        self.layout = layout
        self.subject = subject
        self._rosters: dict[int, bool] = {}

    def attribute(self, start: int, end: int) -> Attribution:
        rows = self.layout.rows_in(start, end)
        pieces: list[Piece] = []
        abouts: list[str | None] = []
        cursor = start
        for row in rows:
            if self.text[cursor : row.span.start].strip():
                prose = self._prose(cursor, min(row.span.start, end))
                pieces += prose.pieces
                abouts.append(prose.about)
            row_pieces = self._row(row, max(start, row.span.start), min(end, row.span.end))
            pieces += row_pieces
            owners = {piece.owner for piece in row_pieces if self.text[piece.start : piece.end].strip()}
            abouts.append(owners.pop() if len(owners) == 1 else None)
            cursor = max(cursor, row.span.end)
        if self.text[cursor:end].strip():
            prose = self._prose(cursor, end)
            pieces += prose.pieces
            abouts.append(prose.about)
        about = abouts[0] if abouts and all(item == abouts[0] for item in abouts) else None
        return Attribution(about, tuple(piece for piece in pieces if piece.end > piece.start))

    # --- tables ------------------------------------------------------------------------------

    def _row(self, row: Row, start: int, end: int) -> list[Piece]:
        if row.header is None:
            return [Piece(start, end, None)]
        label_owner = self._row_label_owner(row)
        pieces = []
        for column, cell in enumerate(row.cells):
            cell_start, cell_end = max(start, cell.start), min(end, cell.end)
            if cell_start >= cell_end:
                continue
            owner = label_owner
            if owner is None and column > 0 and column < len(row.header):
                owner = self._header_owner(row.header, row.header[column])
            pieces.append(Piece(cell_start, cell_end, owner))
        return pieces

    def _row_label_owner(self, row: Row) -> str | None:
        if not row.cells or not self._is_roster(row.table):
            return None
        label = self._text(row.cells[0])
        return label if self.subject.names_another(label) else None

    def _is_roster(self, table: int) -> bool:
        """Whether the table's rows are artifacts: a label names the subject or a member of its family."""
        if table not in self._rosters:
            labels = [self._text(label) for label in self.layout.labels.get(table, [])]
            self._rosters[table] = any(
                self.subject.classify(label) == "subject" or self.subject.in_family(label) for label in labels
            )
        return self._rosters[table]

    def _header_owner(self, header: tuple[Span, ...], cell: Span) -> str | None:
        names = [self.subject.classify(self._text(item)) for item in header[1:]]
        if "subject" not in names:
            return None
        return self._text(cell) if self.subject.names_another(self._text(cell)) else None

    # --- prose -------------------------------------------------------------------------------

    def _prose(self, start: int, end: int) -> Attribution:
        pieces: list[Piece] = []
        about: str | None = None
        names_subject = any(mention.kind == "subject" for mention in self.subject.mentions(self.text, start, end))
        position = start
        first = True
        while position < end:
            sentence = self.layout.sentence_at(position)
            context = self._sentence_owner(sentence)
            if first and not names_subject:
                about = context
            first = False
            for piece in self._sentence_pieces(sentence, context):
                piece_start, piece_end = max(start, piece.start), min(end, piece.end)
                if piece_start < piece_end:
                    pieces.append(Piece(piece_start, piece_end, piece.owner))
            position = max(sentence.end, position + 1)
        return Attribution(about, tuple(pieces))

    def _sentence_pieces(self, sentence: Span, context: str | None) -> list[Piece]:
        mentions = self.subject.mentions(self.text, sentence.start, sentence.end)
        pieces: list[Piece] = []
        previous_last: Mention | None = None
        for clause, opener in self._clauses(sentence):
            inside = [mention for mention in mentions if clause.start <= mention.start < clause.end]
            owner = context
            clause_text = self.text[clause.start : clause.end]
            if previous_last is not None and (_RELATIVE.match(clause_text) or opener == "("):
                owner = self._owner(previous_last, context)
            cursor = clause.start
            for mention in inside:
                if self._opens(clause.start, mention):
                    pieces.append(Piece(cursor, mention.start, owner))
                    owner, cursor = self._owner(mention, context), mention.start
            pieces.append(Piece(cursor, clause.end, owner))
            previous_last = inside[-1] if inside else None
        return pieces

    def _opens(self, clause_start: int, mention: Mention) -> bool:
        """Whether the name is what its clause is about: only connectives and articles come before it.

        "our model scores 69.5" and "than bge-m3, at 63.2" are about the name; in "it succeeds
        Qwen2-Embedding and runs on 8 GPUs" the name is an object and the 8 stays the subject's.
        """
        before = self.text[clause_start : mention.start].lower()
        return all(word in _CONNECTIVES for word in re.findall(r"[^\W\d_]+", before))

    def _clauses(self, sentence: Span) -> list[tuple[Span, str]]:
        """The sentence's clauses, each with the separator that opened it."""
        clauses, cursor, opener = [], sentence.start, ""
        for match in _CLAUSE_BREAK.finditer(self.text, sentence.start, sentence.end):
            clauses.append((Span(cursor, match.start()), opener))
            cursor, opener = match.end(), match.group().strip()
        clauses.append((Span(cursor, sentence.end), opener))
        return clauses

    def _sentence_owner(self, sentence: Span) -> str | None:
        """The artifact a sentence is about when it opens with a name; else its section's."""
        heading_owner = self._heading_owner(sentence.start)
        opening = self._opening_mention(sentence.start, sentence.end)
        if opening is None:
            return heading_owner
        return self._owner(opening, heading_owner)

    def _heading_owner(self, position: int) -> str | None:
        for heading in self.layout.headings_above(position):
            opening = self._opening_mention(heading.title.start, heading.title.end)
            if opening is not None and opening.kind != "self":
                return self._owner(opening, None)
        return None

    def _opening_mention(self, start: int, end: int) -> Mention | None:
        lead = _LEAD.match(self.text, start, end)
        first_word = lead.end() if lead else start
        mentions = self.subject.mentions(self.text, first_word, end)
        return mentions[0] if mentions and mentions[0].start == first_word else None

    @staticmethod
    def _owner(mention: Mention, context: str | None) -> str | None:
        if mention.kind == "other":
            return mention.text
        return context if mention.kind == "self" else None

    def _text(self, span: Span) -> str:
        return self.text[span.start : span.end]
