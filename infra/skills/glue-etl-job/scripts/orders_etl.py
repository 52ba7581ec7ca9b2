"""AWS Glue 5.x PySpark job: raw orders (catalog table) -> cleaned, partitioned Parquet in S3.

Job parameters: --source_db, --source_table, --target_path
Run with --job-bookmark-option job-bookmark-enable for incremental processing.
"""
import sys

from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME", "source_db", "source_table", "target_path"])

sc = SparkContext.getOrCreate()
glue_context = GlueContext(sc)
logger = glue_context.get_logger()
job = Job(glue_context)
job.init(args["JOB_NAME"], args)

# transformation_ctx is what job bookmarks use to remember processed input.
source = glue_context.create_dynamic_frame.from_catalog(
    database=args["source_db"],
    table_name=args["source_table"],
    transformation_ctx="read_raw_orders",
)

if source.count() == 0:
    logger.info("No new input since the last bookmark; nothing to do.")
else:
    df = (
        source.toDF()
        .filter(F.col("order_id").isNotNull())
        .withColumn("amount", F.col("amount").cast("decimal(10,2)"))
        .withColumn("order_ts", F.to_timestamp("order_ts"))
        .withColumn("order_date", F.to_date("order_ts"))
        .dropDuplicates(["order_id"])
    )
    # Fewer, larger files: roughly one file per partition value per run.
    df = df.repartition("order_date")

    glue_context.write_dynamic_frame.from_options(
        frame=DynamicFrame.fromDF(df, glue_context, "clean_orders"),
        connection_type="s3",
        connection_options={"path": args["target_path"], "partitionKeys": ["order_date"]},
        format="parquet",
        format_options={"compression": "snappy"},
        transformation_ctx="write_clean_orders",
    )
    logger.info(f"Wrote {df.count()} rows to {args['target_path']}")

# Commit only after a successful write so the bookmark advances exactly once.
job.commit()
