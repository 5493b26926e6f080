"""The randomization app: allocation lists, kits, dispensing and emergency unblinding.

Everything in this app that names an arm is unblinded information: only its unblinded
selectors return it, and each of their reads is audited.
"""
