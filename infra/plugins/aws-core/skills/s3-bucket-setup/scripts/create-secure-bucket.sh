#!/usr/bin/env bash
# Create (or harden) an S3 bucket: private, ACLs disabled, encrypted, versioned, TLS-only,
# with a lifecycle rule that archives to Glacier Flexible Retrieval after N days.
# Usage: create-secure-bucket.sh <bucket> <region> [archive-days=90] [kms-key-arn]
set -euo pipefail
bucket="${1:?bucket name required}"
region="${2:?region required}"
days="${3:-90}"
kms_key="${4:-}"

if aws s3api head-bucket --bucket "$bucket" --region "$region" 2>/dev/null; then
  echo "bucket $bucket exists and is accessible - hardening it"
else
  if [[ "$region" == "us-east-1" ]]; then
    aws s3api create-bucket --bucket "$bucket" --region "$region" --object-ownership BucketOwnerEnforced
  else
    aws s3api create-bucket --bucket "$bucket" --region "$region" \
      --create-bucket-configuration "LocationConstraint=$region" --object-ownership BucketOwnerEnforced
  fi
  aws s3api wait bucket-exists --bucket "$bucket" --region "$region"
fi

aws s3api put-public-access-block --bucket "$bucket" --region "$region" \
  --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
aws s3api put-bucket-ownership-controls --bucket "$bucket" --region "$region" \
  --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'

if [[ -n "$kms_key" ]]; then
  enc="{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"aws:kms\",\"KMSMasterKeyID\":\"$kms_key\"},\"BucketKeyEnabled\":true}]}"
else
  enc='{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'
fi
aws s3api put-bucket-encryption --bucket "$bucket" --region "$region" --server-side-encryption-configuration "$enc"

aws s3api put-bucket-versioning --bucket "$bucket" --region "$region" --versioning-configuration Status=Enabled

aws s3api put-bucket-lifecycle-configuration --bucket "$bucket" --region "$region" --lifecycle-configuration "{
  \"Rules\": [{
    \"ID\": \"archive-after-${days}-days\",
    \"Status\": \"Enabled\",
    \"Filter\": {},
    \"Transitions\": [{\"Days\": ${days}, \"StorageClass\": \"GLACIER\"}],
    \"NoncurrentVersionExpiration\": {\"NoncurrentDays\": 90},
    \"AbortIncompleteMultipartUpload\": {\"DaysAfterInitiation\": 7}
  }]
}"

aws s3api put-bucket-policy --bucket "$bucket" --region "$region" --policy "{
  \"Version\": \"2012-10-17\",
  \"Statement\": [{
    \"Sid\": \"DenyInsecureTransport\",
    \"Effect\": \"Deny\",
    \"Principal\": \"*\",
    \"Action\": \"s3:*\",
    \"Resource\": [\"arn:aws:s3:::${bucket}\", \"arn:aws:s3:::${bucket}/*\"],
    \"Condition\": {\"Bool\": {\"aws:SecureTransport\": \"false\"}}
  }]
}"

echo "--- verification"
aws s3api get-bucket-versioning --bucket "$bucket" --region "$region" --output text
aws s3api get-bucket-encryption --bucket "$bucket" --region "$region" \
  --query 'ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault' --output text
aws s3api get-bucket-policy-status --bucket "$bucket" --region "$region" --query 'PolicyStatus.IsPublic'
