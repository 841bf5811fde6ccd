"""The hospital itself: its licence, approved departments (诊疗科目) and public disclosure (INS)."""
