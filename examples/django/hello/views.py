import platform

from django.http import JsonResponse
from django.shortcuts import render

from .models import Greeting


def index(request):
    greeting = Greeting.objects.order_by('id').first()
    return render(request, 'hello/index.html', {
        'greeting': greeting.text if greeting else 'no greeting (migrations did not run)',
        'python': platform.python_version(),
    })


def health(request):
    return JsonResponse({'status': 'ok', 'greetings': Greeting.objects.count()})
