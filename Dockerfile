# NN Playground as a container: docker build -t nn-playground . && docker run -p 8501:8501 nn-playground
# GPU hosts: docker run --gpus all -p 8501:8501 nn-playground (the default torch wheel is the CUDA build).
# A CPU-only image (about 1.8 GB, estimated, instead of 6.6 GB): docker build --build-arg TORCH_VARIANT=cpu .
# BASE_IMAGE: any image with Python 3.11, pip and useradd on PATH (scripts/image_test.py builds one
# from Debian's packages where no registry is reachable). buildah keeps the HEALTHCHECK only with
# `buildah bud --format docker`.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ARG TORCH_VARIANT=cuda
ARG TORCH_CPU_INDEX=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NNKIT_DATA_DIR=/app/data

WORKDIR /app
COPY requirements.txt .
RUN if [ "$TORCH_VARIANT" = "cpu" ]; then \
        pip install --index-url "$TORCH_CPU_INDEX" torch==2.14.1 torchvision==0.29.1; \
    fi \
    && pip install -r requirements.txt

# The app user owns its home and the data cache only; the code below stays root's, read-only to it.
RUN useradd --create-home --uid 1000 playground \
    && install -d -o 1000 -g 1000 /app/data
# COPY without --chown: the code is root's, mode 644/755 from the build context, read-only to the
# app user (.dockerignore leaves tests, benchmarks and docs out).
COPY . .
# MNIST and Fashion-MNIST, converted once into the cache the app reads, as the app user (the cache is
# its own without a chown layer). Without a network the app runs on the bundled 8x8 digits.
USER 1000
RUN python -m nnkit data download mnist fashion-mnist \
    || echo "MNIST/Fashion-MNIST not downloaded: the app will use the bundled 8x8 digits"

EXPOSE 8501
# python's urllib instead of curl: the slim image has no curl and needs none
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4).read() != b'ok')"]
# serve.py serves app.py and loads torch and the default dataset as the server starts (ui/warmup.py)
ENTRYPOINT ["streamlit", "run", "serve.py", "--server.port=8501", "--server.address=0.0.0.0"]
