"""E-mail: notices of sub-processor changes to confirmed subscribers, confirmations, and
objections to the processor's DPO, planned from the change log and sent through SMTP."""
