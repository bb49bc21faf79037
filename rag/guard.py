"""Input checks: clean the question, reject what cannot be answered, spot instructions aimed at the assistant."""

from __future__ import annotations

import re
import unicodedata

MAX_QUESTION_CHARS = 2000

_INJECTION = re.compile(
    r"ignore\s+(?:all\s+|any\s+|the\s+|your\s+|my\s+|previous\s+|prior\s+|above\s+|earlier\s+)*"
    r"(?:instructions?|rules|prompts?|directions|guidelines)"
    r"|disregard\s+(?:all\s+|any\s+|the\s+|your\s+|previous\s+|prior\s+|above\s+)+"
    r"|(?:system|hidden|initial|original)\s+prompt"
    r"|(?:reveal|print|show|repeat|output|leak)\s+(?:me\s+)?(?:your|the)\s+(?:instructions|prompt|rules|configuration)"
    r"|\bjailbreak|\bdeveloper\s+mode\b|\bDAN\b|\bdo anything now\b"
    r"|\byou\s+are\s+now\b|\bpretend\s+(?:to\s+be|you\s+are)\b|\bact\s+as\s+(?:an?\s+)?(?:unrestricted|unfiltered|evil)"
    r"|\b(?:api|secret)\s+keys?\b|\bpasswords?\b",
    re.IGNORECASE,
)


# What marks text inside a document as written to steer an assistant: chat-template and prompt-format
# markers, and orders about how to answer addressed to an AI; with _INJECTION's phrases.
_DOCUMENT_INSTRUCTION = re.compile(
    r"<\|(?:im_start|im_end|system|user|assistant|endoftext)\|>|\[/?INST\]|<</?SYS>>|###\s*(?:instruction|response|system)"
    r"|</?(?:passage|context|documents?|system)>|^\s*system\s*:"
    r"|\b(?:answer|reply|respond)\s+(?:only\s+|exclusively\s+)?(?:with|in)\s+(?:the\s+)?(?:single\s+)?(?:word|phrase|all\s+caps)"
    r"|\b(?:ai|llm|language\s+models?|chat\s*bots?|assistants?)\b[^.\n]{0,80}\b(?:must|should|shall|are\s+to|ignore|always|never)\b",
    re.IGNORECASE | re.MULTILINE,
)


class QuestionError(ValueError):
    """A question that cannot be asked as it is; the message says why."""


def clean_question(raw: str) -> str:
    """Control characters become spaces, white space is folded; empty or oversized input is refused."""
    if not isinstance(raw, str):
        raise QuestionError("The question must be text.")
    text = "".join(" " if unicodedata.category(ch) in {"Cc", "Cf"} else ch for ch in raw)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise QuestionError("Please type a question.")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"The question is too long ({len(text):,} characters; the limit is {MAX_QUESTION_CHARS:,}). "
            "Ask about one thing at a time."
        )
    return text


def is_instruction_attack(text: str) -> bool:
    """True when the text tries to steer the assistant rather than ask about the articles."""
    return bool(_INJECTION.search(text))


def gives_instructions(text: str) -> bool:
    """True when document text is written to steer an assistant (a notice to AI systems, chat-template
    markers, an order about how to answer): the reader is told it is quoted text, never an order."""
    return bool(_DOCUMENT_INSTRUCTION.search(text) or _INJECTION.search(text))
