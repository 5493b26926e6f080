"""The trial dataset in other programs' formats (a pure package: no Django).

- `statfiles`: the analysis-ready tables as SAS transport (XPT v5), SPSS (.sav) and Stata
  (.dta) files with variable and value labels, written by pyreadstat;
- `fhir`: the nightly diary as a FHIR Questionnaire and a Bundle of QuestionnaireResponses per
  participant, built with fhir.resources;
- `odm`: the whole dataset as CDISC ODM 1.3.2 XML (lxml), and back;
- `sdtm` and `datasetjson`: SDTM-style domains as CDISC Dataset-JSON v1.1 (dsjframe) with a
  Define-XML 2.1 (odmlib);
- `redcap`: a REDCap data dictionary and records export, through a mapping file, as a dataset;
- `formats`: the list of formats the command line and the export page offer.
"""
