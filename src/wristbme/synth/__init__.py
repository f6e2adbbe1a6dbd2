"""Synthetic multicentre cohort: PA wrist phantoms with ground truth, site profiles, DICOM discs, case sheets.

Public entry points: ``wristbme.synth.phantom`` (``HandSpec``, ``render_phantom``, ``Phantom``),
``wristbme.synth.sites`` (``SiteProfile``, ``SITES``) and ``wristbme.synth.cohort`` (``generate_cohort``).
Everything produced here is synthetic and labelled so.
"""
