# NN Playground as a container: docker build -t nn-playground . && docker run -p 8501:8501 nn-playground
# GPU hosts: docker run --gpus all -p 8501:8501 nn-playground (the default torch wheel is the CUDA build).
# A CPU-only image (about 1 GB instead of about 6 GB): docker build --build-arg TORCH_VARIANT=cpu .
FROM python:3.11-slim

ARG TORCH_VARIANT=cuda
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    NNKIT_DATA_DIR=/app/data

WORKDIR /app
COPY requirements.txt .
RUN if [ "$TORCH_VARIANT" = "cpu" ]; then \
        pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.14.1 torchvision==0.29.1; \
    fi \
    && pip install --no-cache-dir -r requirements.txt

COPY . .
# MNIST and Fashion-MNIST, converted once into the cache the app reads (the build has a network;
# without one the app still runs on the bundled scikit-learn digits and says how to add these).
RUN python -m nnkit data download mnist fashion-mnist \
    || echo "MNIST/Fashion-MNIST not downloaded: the app will use the bundled 8x8 digits"
RUN useradd --create-home --uid 1000 playground && chown -R playground /app
USER 1000

EXPOSE 8501
# python's urllib instead of curl: the slim image has no curl and needs none
HEALTHCHECK --interval=30s --timeout=5s CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4).read() != b'ok')"]
# serve.py serves app.py and loads torch and the default dataset as the server starts (ui/warmup.py)
ENTRYPOINT ["streamlit", "run", "serve.py", "--server.port=8501", "--server.address=0.0.0.0"]
