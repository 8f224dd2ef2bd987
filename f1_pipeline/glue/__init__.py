"""Running the steps as an AWS Glue job: the job's entry point and its deployment."""
