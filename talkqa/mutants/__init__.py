"""Mutation testing of generated suites: a catalogue of broken reference syncs (``talkqa mutate``)."""

from talkqa.mutants.catalogue import CATALOGUE, Mutant, Selector, UnknownMutant, activate, broken_rows, parse_spec

__all__ = ["CATALOGUE", "Mutant", "Selector", "UnknownMutant", "activate", "broken_rows", "parse_spec"]
