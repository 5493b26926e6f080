"""The trial dataset in other programs' formats (a pure package: no Django).

- `statfiles`: the analysis-ready tables as SAS transport (XPT v5), SPSS (.sav) and Stata
  (.dta) files with variable and value labels, written by pyreadstat;
- `fhir`: the nightly diary as a FHIR Questionnaire and a Bundle of QuestionnaireResponses per
  participant, built with fhir.resources.
"""
