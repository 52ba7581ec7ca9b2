"""Example EMR Serverless PySpark job: aggregate one day of orders into a curated table.

Usage (entryPointArguments): --date 2024-05-01 [--source curated.orders] [--target s3://acme-curated/orders_daily/]
"""
import argparse

from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--date", required=True)
    parser.add_argument("--source", default="curated.orders")
    parser.add_argument("--target", default="s3://acme-curated/orders_daily/")
    args = parser.parse_args()

    spark = SparkSession.builder.appName(f"orders-daily-{args.date}").getOrCreate()
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")  # overwrite only this day's partition

    orders = spark.table(args.source).where(F.col("order_date") == F.lit(args.date).cast("date"))
    daily = (
        orders.groupBy("customer_id")
        .agg(F.count("*").alias("orders"), F.sum("amount").alias("revenue"))
        .withColumn("dt", F.lit(args.date))
    )
    (daily.repartition(4)
          .write.mode("overwrite")
          .partitionBy("dt")
          .parquet(args.target))
    print(f"wrote {daily.count()} customer rows for {args.date}")
    spark.stop()


if __name__ == "__main__":
    main()
