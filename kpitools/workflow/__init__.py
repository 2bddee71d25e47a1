"""The quarter's workflow around the reports: Directors' commentary workbooks, sign-off,
committee decisions and publishing."""
